package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;

import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.Map;

/**
 * The GpuCheckpoint status: the rules it shares with GpuRestore ({@link OperationStatusFactory}),
 * plus its dispatch and its artifact. Reconcilers only say what happened.
 */
@Singleton
public class CheckpointStatusFactory
    extends OperationStatusFactory<
        GpuCheckpoint, GpuCheckpointStatus, CheckpointPhase, CheckpointStatusFactory.Builder> {

  public CheckpointStatusFactory(Clock clock) {
    super(
        clock,
        new Phases<>(
            CheckpointPhase.Pending, CheckpointPhase.Checkpointing, CheckpointPhase.Failed),
        "checkpoint running on node ");
  }

  /** The agent accepted the operation. */
  public GpuCheckpointStatus dispatched(GpuCheckpoint cr, String node, String operationId) {
    String msg = "checkpoint running on node " + node + " (operation " + operationId + ")";
    return dispatching(cr, node, operationId, msg)
        .condition(Accepted, True, ConditionReason.Validated, "pod, container and agent found")
        .build(msg);
  }

  public GpuCheckpointStatus succeeded(
      GpuCheckpoint cr, CheckpointArtifact artifact, Map<String, Long> timings) {
    String msg = "checkpoint stored at " + artifact.location() + " (" + artifact.digest() + ")";
    Builder b = from(cr).phase(CheckpointPhase.Succeeded);
    b.artifact = artifact;
    b.timings = timings;
    return b.condition(Progressing, False, ConditionReason.Succeeded, msg)
        .condition(Ready, True, ConditionReason.Succeeded, msg)
        .build(msg);
  }

  @Override
  protected Builder from(GpuCheckpoint cr) {
    return new Builder(cr.getMetadata().getGeneration(), cr.getStatus(), clock);
  }

  /** A GpuCheckpoint's own fields: its artifact and timings. */
  static final class Builder
      extends OperationStatusBuilder<GpuCheckpointStatus, CheckpointPhase, Builder> {
    CheckpointArtifact artifact;
    Map<String, Long> timings;

    Builder(Long generation, GpuCheckpointStatus s, Clock clock) {
      super(generation, s, clock);
      if (s != null) {
        artifact = s.artifact();
        timings = s.timings();
      }
    }

    @Override
    public GpuCheckpointStatus build(String message) {
      return new GpuCheckpointStatus(
          phase, node, generation(), conditions(), artifact, timings, operation, attempts, message);
    }
  }
}
