package dev.warmstart.operator.reconciler;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.agent.AgentRejectedException;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.status.ConditionReason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Follows agent operations the same way for every caller (both workflows and the checkpoint
 * cleanup): dispatch once by idempotency key, poll by id, tell an operation the agent forgot from
 * an agent that cannot be reached, retry the latter with exponential backoff up to the configured
 * attempts, and record what finished in the metrics. Callers only map an {@link Outcome} to their
 * status.
 */
public final class OperationTracker {
  private final NodeAgentClient agents;
  private final OperatorMetrics metrics;
  private final OperatorConfig config;
  private final Clock clock;

  public OperationTracker(
      NodeAgentClient agents, OperatorMetrics metrics, OperatorConfig config, Clock clock) {
    this.agents = agents;
    this.metrics = metrics;
    this.config = config;
    this.clock = clock;
  }

  /** What became of a call to the agent. */
  public sealed interface Outcome permits Known, Lost, Unreachable, Refused {}

  /** The agent answered with the operation's status. */
  public record Known(OperationStatus operation) implements Outcome {}

  /** The agent runs but no longer knows the operation (e.g. its journal was lost). */
  public record Lost(String message) implements Outcome {}

  /**
   * No agent answered; {@code retryAfter} is empty once the attempts are used up (then the message
   * says so).
   */
  public record Unreachable(ConditionReason reason, String message, Optional<Duration> retryAfter)
      implements Outcome {}

  /** The agent refused the request (4xx): retrying would not help. */
  public record Refused(String message) implements Outcome {}

  /**
   * Submits (idempotently by the request's key).
   *
   * @param attemptsSoFar the dispatch attempts already made (status attempts)
   */
  public Outcome submit(String node, OperationRequest request, int attemptsSoFar) {
    try {
      return new Known(agents.submit(node, request));
    } catch (AgentUnavailableException e) {
      return unreachable(e, attemptsSoFar);
    } catch (AgentRejectedException e) {
      return new Refused(e.getMessage());
    }
  }

  /**
   * The operation's current status.
   *
   * @param what how the message names it ("operation", "activation")
   */
  public Outcome poll(String node, String operationId, String what, int attemptsSoFar) {
    try {
      Optional<OperationStatus> op = agents.get(node, operationId);
      return op.<Outcome>map(Known::new)
          .orElseGet(
              () ->
                  new Lost(
                      "the agent on " + node + " no longer knows " + what + " " + operationId));
    } catch (AgentUnavailableException e) {
      return unreachable(e, attemptsSoFar);
    }
  }

  private Unreachable unreachable(AgentUnavailableException e, int attemptsSoFar) {
    int attempt = attemptsSoFar + 1;
    if (attempt >= config.maxAttempts()) {
      return new Unreachable(
          e.reason(),
          e.getMessage() + " (gave up after " + attempt + " attempts)",
          Optional.empty());
    }
    return new Unreachable(
        e.reason(), e.getMessage(), Optional.of(Backoff.after(config.retryBackoff(), attempt)));
  }

  /** A succeeded operation: the outcome counter, its duration and the agent's phase timings. */
  public void succeeded(String kind, OperationStatus op, Duration took) {
    metrics.finished(kind, "succeeded", took);
    metrics.phases(kind, gpuModel(op), op.timings());
  }

  /** An operation (or request) that ended without success, counted by its condition reason. */
  public void failed(String kind, ConditionReason reason, Duration took) {
    metrics.finished(kind, reason.name(), took);
  }

  /** Time from the agent's acceptance to now; null when the agent did not say. */
  public Duration sinceSubmitted(OperationStatus op) {
    return op.submittedAt() == null
        ? null
        : Duration.between(Instant.parse(op.submittedAt()), clock.instant());
  }

  public static String gpuModel(OperationStatus op) {
    return op.image() == null || op.image().gpu() == null ? null : op.image().gpu().model();
  }

  /** The poll interval, for callers that requeue while an operation runs. */
  public Duration pollInterval() {
    return config.pollInterval();
  }
}
