package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.agent.AgentRejectedException;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import jakarta.enterprise.context.ApplicationScoped;
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

  private final NodeAgentClient agents;
  private final EventRecorder events;
  private final OperatorConfig config;

  public GpuCheckpointCleanup(NodeAgentClient agents, EventRecorder events, OperatorConfig config) {
    this.agents = agents;
    this.events = events;
    this.config = config;
  }

  /** Empty when the finalizer may go; otherwise when to look again. */
  public Optional<Duration> cleanup(GpuCheckpoint cr, int attempt) {
    GpuCheckpointStatus s = cr.getStatus();
    if (s == null || s.nodeName() == null || s.operationId() == null) {
      return Optional.empty(); // nothing was started
    }
    try {
      if (s.phase() == CheckpointPhase.Checkpointing) {
        Optional<OperationStatus> op = agents.get(s.nodeName(), s.operationId());
        if (op.isPresent() && !op.get().state().isTerminal()) {
          return Optional.of(config.pollInterval()); // never pull the image from under a capture
        }
      }
      boolean retain =
          cr.getMetadata().getAnnotations() != null
              && "true".equals(cr.getMetadata().getAnnotations().get(RETAIN));
      if (retain) {
        events.normal(
            cr,
            EventReason.ArtifactRetained,
            "image kept on " + s.nodeName() + " (" + RETAIN + ")");
        return Optional.empty();
      }
      OperationStatus del =
          agents.submit(
              s.nodeName(),
              OperationRequest.deleteImage(
                  "gck-delete-" + cr.getMetadata().getUid(), CheckpointWorkflow.imageName(cr)));
      if (!del.state().isTerminal()) {
        del = agents.get(s.nodeName(), del.id()).orElse(del);
      }
      if (del.state() == OperationState.SUCCEEDED) {
        events.normal(cr, EventReason.ArtifactDeleted, "image deleted on " + s.nodeName());
        return Optional.empty();
      }
      if (del.state() == OperationState.FAILED) {
        events.warning(
            cr, EventReason.ArtifactRetained, "image not deleted: " + del.error().message());
        return Optional.empty();
      }
      return Optional.of(config.pollInterval());
    } catch (AgentUnavailableException e) {
      if (attempt >= config.maxAttempts()) {
        events.warning(
            cr,
            EventReason.ArtifactRetained,
            "image left on " + s.nodeName() + ": " + e.getMessage());
        return Optional.empty();
      }
      return Optional.of(
          dev.warmstart.operator.reconciler.Backoff.after(config.retryBackoff(), attempt));
    } catch (AgentRejectedException e) {
      events.warning(cr, EventReason.ArtifactRetained, "image not deleted: " + e.getMessage());
      return Optional.empty();
    }
  }
}
