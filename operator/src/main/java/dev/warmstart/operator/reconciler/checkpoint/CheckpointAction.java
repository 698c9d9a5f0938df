package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.status.ConditionReason;

/** What {@link CheckpointDecider} concluded; {@link CheckpointExecutor} carries it out. */
public sealed interface CheckpointAction {
  /**
   * @param world where the executor reads more when the outcome needs it (the pod at success)
   */
  Decision<GpuCheckpointStatus> applyTo(
      GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world);

  record Keep() implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return Decision.done(cr.getStatus());
    }
  }

  /** The request cannot work as written. */
  record Reject(ConditionReason reason, String message) implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.reject(cr, reason, message);
    }
  }

  /** Waiting for something that may still come (a pod starting, the storage pod). */
  record Wait(ConditionReason reason, String message) implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.waitFor(cr, reason, message);
    }
  }

  /** Create the pod that mounts the claim on the node, then wait for it. */
  record CreateStoragePod(PersistentVolumeClaimStorage claim, String node, String waitMessage)
      implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.createStoragePod(cr, this);
    }
  }

  record Fail(ConditionReason reason, String message) implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.fail(cr, reason, message);
    }
  }

  /** Ask the node's agent to checkpoint; {@code what} names the target in the event. */
  record Dispatch(String node, OperationRequest request, String what) implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.dispatch(cr, this);
    }
  }

  /** Poll the capture; {@code observed} is what its outcome is decided against. */
  record Follow(String node, String operationId, CheckpointObservation observed)
      implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.follow(cr, this, world);
    }
  }

  record Progress(String step) implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.progress(cr, step);
    }
  }

  /** The capture is stored: the artifact status carries from now on. */
  record Succeed(OperationStatus op, CheckpointArtifact artifact) implements CheckpointAction {
    public Decision<GpuCheckpointStatus> applyTo(
        GpuCheckpoint cr, CheckpointExecutor x, CheckpointWorld world) {
      return x.succeed(cr, this);
    }
  }
}
