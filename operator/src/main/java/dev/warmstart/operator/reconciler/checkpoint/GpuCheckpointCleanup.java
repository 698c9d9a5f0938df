package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
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
import java.util.Optional;

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
   * Empty when the finalizer may go; otherwise when to look again.
   *
   * @param attempt this cleanup's attempt, from 1
   */
  public Optional<Duration> cleanup(GpuCheckpoint cr, int attempt) {
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
            OperationRequest.deleteImage(
                "gck-delete-" + cr.getMetadata().getUid(), CheckpointWorkflow.imageName(cr)),
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
    if (u.retryAfter().isEmpty()) {
      events.warning(
          cr, EventReason.ArtifactRetained, "image left on " + node + ": " + u.message());
    }
    return u.retryAfter();
  }
}
