package dev.warmstart.operator.support;

import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ImageSummary;
import dev.warmstart.api.agent.OperationError;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.StoreUsage;
import dev.warmstart.operator.agent.AgentRejectedException;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.status.ConditionReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Test double of the node agents at their client interface (reconciler tests have no nodes). It
 * keeps the real agent's contract: one operation per idempotency key; operations run for {@code
 * pollsToFinish} polls and then succeed, or end as {@code failWith} says.
 */
public final class FakeAgents implements NodeAgentClient {
  public final Set<String> nodesWithAgent = ConcurrentHashMap.newKeySet();
  public final Set<String> unreachable = ConcurrentHashMap.newKeySet();
  public final List<OperationRequest> submissions = new ArrayList<>();
  public final Map<String, OperationStatus> ops = new ConcurrentHashMap<>();
  private final Map<String, String> idByKey = new ConcurrentHashMap<>();
  private final Map<String, OperationRequest> requestById = new ConcurrentHashMap<>();
  private final Map<String, Integer> polls = new ConcurrentHashMap<>();
  public volatile int pollsToFinish = 1;
  public volatile ErrorReason failWith;
  public volatile boolean forgetOperations;

  /** Thrown from submit: an unexpected error (a bug), not one of the client's checked failures. */
  public volatile RuntimeException crashWith;

  /** Each node's image store as its agent reports it; a node missing here reports none. */
  public final Map<String, StoreUsage> stores = new ConcurrentHashMap<>();

  @Override
  public synchronized OperationStatus submit(String node, OperationRequest request)
      throws AgentUnavailableException, AgentRejectedException {
    reachable(node);
    if (crashWith != null) {
      throw crashWith;
    }
    submissions.add(request);
    String existing = idByKey.get(request.idempotencyKey());
    if (existing != null) {
      return ops.get(existing);
    }
    String id = "op-" + (ops.size() + 1);
    idByKey.put(request.idempotencyKey(), id);
    requestById.put(id, request);
    OperationStatus s =
        new OperationStatus(
            id,
            request.idempotencyKey(),
            request.kind(),
            OperationState.ACCEPTED,
            null,
            "2026-11-24T10:00:00Z",
            null,
            null,
            null,
            null,
            null);
    ops.put(id, s);
    return s;
  }

  @Override
  public synchronized Optional<OperationStatus> get(String node, String id)
      throws AgentUnavailableException {
    reachable(node);
    OperationStatus s = ops.get(id);
    if (s == null || forgetOperations) {
      return Optional.empty();
    }
    int n = polls.merge(id, 1, Integer::sum);
    if (!s.state().isTerminal()) {
      s = n < pollsToFinish ? running(s) : finished(s, node);
      ops.put(id, s);
    }
    return Optional.of(s);
  }

  @Override
  public Optional<StoreUsage> storeUsage(String node) throws AgentUnavailableException {
    reachable(node);
    return Optional.ofNullable(stores.get(node));
  }

  @Override
  public boolean hasAgent(String node) {
    return nodesWithAgent.contains(node);
  }

  /** Distinct operations of a kind the agents ran. */
  public long operations(OperationKind kind) {
    return ops.values().stream().filter(o -> o.kind() == kind).count();
  }

  private void reachable(String node) throws AgentUnavailableException {
    if (!nodesWithAgent.contains(node)) {
      throw new AgentUnavailableException(
          ConditionReason.NoAgentOnNode, "no ready Warmstart agent on node " + node);
    }
    if (unreachable.contains(node)) {
      throw new AgentUnavailableException(
          ConditionReason.AgentUnreachable, "the agent on node " + node + " timed out");
    }
  }

  private static OperationStatus running(OperationStatus s) {
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        OperationState.RUNNING,
        "dump",
        s.submittedAt(),
        null,
        null,
        null,
        null,
        null);
  }

  private OperationStatus finished(OperationStatus s, String node) {
    if (failWith != null) {
      return new OperationStatus(
          s.id(),
          s.idempotencyKey(),
          s.kind(),
          OperationState.FAILED,
          "dump",
          s.submittedAt(),
          "2026-11-24T10:00:05Z",
          null,
          null,
          null,
          new OperationError(failWith, "injected " + failWith));
    }
    String name = imageName(requestById.get(s.id()));
    ImageSummary image =
        new ImageSummary(
            name,
            node,
            "/var/lib/warmstart/images/" + name,
            1 << 20,
            "sha256:" + "a".repeat(64),
            "2026-11-24T10:00:04Z",
            "4.2.1",
            null);
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        OperationState.SUCCEEDED,
        null,
        s.submittedAt(),
        "2026-11-24T10:00:05Z",
        Map.of("dump", 100L, "total", 150L),
        image,
        s.kind() == OperationKind.RESTORE ? 4242 : null,
        null);
  }

  /** The image an operation names, as a real agent reports it back. */
  private static String imageName(OperationRequest r) {
    if (r == null) {
      return "img";
    }
    return r.checkpoint() != null
        ? r.checkpoint().imageName()
        : r.restore() != null ? r.restore().imageName() : "img";
  }
}
