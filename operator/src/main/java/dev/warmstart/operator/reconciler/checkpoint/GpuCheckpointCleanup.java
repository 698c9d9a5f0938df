package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.OperationTracker;
import dev.warmstart.operator.reconciler.OperationTracker.Known;
import dev.warmstart.operator.reconciler.OperationTracker.Outcome;
import dev.warmstart.operator.reconciler.OperationTracker.Refused;
import dev.warmstart.operator.reconciler.OperationTracker.Unreachable;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Deleting a GpuCheckpoint: waits for a capture in flight, then deletes its image on the node
 * unless the annotation {@value #RETAIN} is "true". Gives up on a node that stays unreachable (the
 * image is then left there, and an event says where).
 */
@ApplicationScoped
public class GpuCheckpointCleanup {
  public static final String RETAIN = "warmstart.dev/retain-artifact";

  private final OperationTracker operations;
  private final EventRecorder events;

  /** Per checkpoint (UID): cleanups so far that found its agent unreachable. */
  private final Map<String, Integer> unreachableTries = new ConcurrentHashMap<>();

  public GpuCheckpointCleanup(
      NodeAgentClient agents,
      EventRecorder events,
      OperatorMetrics metrics,
      OperatorConfig config,
      Clock clock) {
    this.operations = new OperationTracker(agents, metrics, config, clock);
    this.events = events;
  }

  /**
   * Empty when the finalizer may go; otherwise when to look again. An unreachable agent is retried
   * with backoff up to the configured attempts, counted here: a cleanup that reschedules itself
   * gets no retry count from JOSDK (only a throwing one does).
   */
  public Optional<Duration> cleanup(GpuCheckpoint cr) {
    String uid = cr.getMetadata().getUid();
    Optional<Duration> next = cleanup(cr, unreachableTries.getOrDefault(uid, 0) + 1);
    if (next.isEmpty()) {
      unreachableTries.remove(uid);
    }
    return next;
  }

  private Optional<Duration> cleanup(GpuCheckpoint cr, int attempt) {
    GpuCheckpointStatus s = cr.getStatus();
    if (s == null || s.nodeName() == null || s.operationId() == null) {
      return Optional.empty(); // nothing was started
    }
    String node = s.nodeName();
    if (s.phase() == CheckpointPhase.Checkpointing) {
      Outcome capture = operations.poll(node, s.operationId(), "operation", attempt - 1);
      if (capture instanceof Unreachable u) {
        return leaveOrRetry(cr, node, u);
      }
      if (capture instanceof Known k && !k.operation().state().isTerminal()) {
        return Optional.of(operations.pollInterval()); // never pull the image from a capture
      }
    }
    if (cr.getMetadata().getAnnotations() != null
        && "true".equals(cr.getMetadata().getAnnotations().get(RETAIN))) {
      events.normal(
          cr, EventReason.ArtifactRetained, "image kept on " + node + " (" + RETAIN + ")");
      return Optional.empty();
    }
    Outcome deletion =
        operations.submit(
            node,
            OperationRequest.deleteImage("gck-delete-" + cr.getMetadata().getUid(), imageName(cr)),
            attempt - 1);
    if (deletion instanceof Refused r) {
      events.warning(cr, EventReason.ArtifactRetained, "image not deleted: " + r.message());
      return Optional.empty();
    }
    if (deletion instanceof Unreachable u) {
      return leaveOrRetry(cr, node, u);
    }
    OperationStatus del = ((Known) deletion).operation();
    if (!del.state().isTerminal()) {
      Outcome now = operations.poll(node, del.id(), "operation", attempt - 1);
      if (now instanceof Unreachable u) {
        return leaveOrRetry(cr, node, u);
      }
      del = now instanceof Known k ? k.operation() : del;
    }
    if (del.state() == OperationState.SUCCEEDED) {
      events.normal(cr, EventReason.ArtifactDeleted, "image deleted on " + node);
      return Optional.empty();
    }
    if (del.state() == OperationState.FAILED) {
      events.warning(
          cr, EventReason.ArtifactRetained, "image not deleted: " + del.error().message());
      return Optional.empty();
    }
    return Optional.of(operations.pollInterval());
  }

  /** Retries an unreachable agent with backoff; past the attempts, the image is left there. */
  private Optional<Duration> leaveOrRetry(GpuCheckpoint cr, String node, Unreachable u) {
    unreachableTries.merge(cr.getMetadata().getUid(), 1, Integer::sum);
    if (u.retryAfter().isEmpty()) {
      events.warning(
          cr, EventReason.ArtifactRetained, "image left on " + node + ": " + u.message());
    }
    return u.retryAfter();
  }

  /** The image the artifact names; before there is one, the name the capture was sent with. */
  private static String imageName(GpuCheckpoint cr) {
    CheckpointArtifact artifact = cr.getStatus().artifact();
    return artifact != null && artifact.imageName() != null
        ? artifact.imageName()
        : CheckpointWorkflow.imageName(cr);
  }
}
