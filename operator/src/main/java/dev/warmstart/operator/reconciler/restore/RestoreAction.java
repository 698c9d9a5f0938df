package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.status.ConditionReason;
import java.util.Map;
import java.util.Optional;

/**
 * What {@link RestoreDecider} concluded for one GpuRestore reconcile; {@link RestoreExecutor} does
 * it (the I/O) and says which status to write and when to look again.
 */
public sealed interface RestoreAction {
  Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x);

  /** Which agent operation of a restore is followed. */
  enum Stage {
    RESTORE,
    ACTIVATION
  }

  /** Terminal already: nothing to do. */
  record Keep() implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return Decision.done(cr.getStatus());
    }
  }

  /** Terminal (Failed) already, but its placeholder pod is still there: it goes. */
  record RemovePlaceholder() implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.removePlaceholder(cr);
    }
  }

  /** Nothing changed: look again after the poll interval. */
  record Recheck() implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.recheck(cr);
    }
  }

  /** Refused before anything was created. */
  record Reject(ConditionReason reason, String message) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.reject(cr, reason, message);
    }
  }

  /** Failed: the placeholder pod goes (through its dependent resource). */
  record Fail(ConditionReason reason, String message) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.fail(cr, reason, message);
    }
  }

  /** A pooled restore failed: the claimed standby (and its placeholder) goes. */
  record FailPooled(ConditionReason reason, String message) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.failPooled(cr, reason, message);
    }
  }

  /** Waiting for something outside this restore (its checkpoint, a ready standby). */
  record Wait(ConditionReason reason, String message) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.waitFor(cr, reason, message);
    }
  }

  /**
   * The restore wants its placeholder pod and it does not exist yet: its dependent resource ({@link
   * PlaceholderPodResource}) creates it from the pod {@link PlaceholderPods} builds.
   *
   * @param node the node to pin it to (node-local image), or null
   * @param claim the claim the image is kept on
   */
  record CreatePlaceholder(
      CheckpointArtifact artifact, String node, Optional<PersistentVolumeClaimStorage> claim)
      implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.createPlaceholder(cr, this);
    }
  }

  record AwaitPlaceholder(String podName, String message) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.awaitPlaceholder(cr, podName, message);
    }
  }

  /** Ask the placeholder's node agent to restore into it. */
  record Dispatch(String node, String podName, OperationRequest request) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.dispatch(cr, this);
    }
  }

  /** Ask the standby's agent to let it run. */
  record Activate(String node, OperationRequest request) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.activate(cr, this);
    }
  }

  record Follow(String node, String operationId, Stage stage) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.follow(cr, this);
    }
  }

  /** Take a ready standby of the pool. */
  record Claim(GpuRestore standby, String pool) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.claim(cr, this);
    }
  }

  record Progress(String step) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.progress(cr, step);
    }
  }

  /** The restore succeeded as a Warm or Hot standby. */
  record StandbyReady(OperationStatus op) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.standbyReady(cr, op);
    }
  }

  /** The restore succeeded and the process runs. */
  record Restored(OperationStatus op) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.restored(cr, op);
    }
  }

  /** The standby was activated and runs. */
  record Activated(OperationStatus op) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.activated(cr, op);
    }
  }

  /** The claimed standby runs: so does this pooled restore. */
  record TookOver(Map<String, Long> timings) implements RestoreAction {
    public Decision<GpuRestoreStatus> applyTo(GpuRestore cr, RestoreExecutor x) {
      return x.tookOver(cr, timings);
    }
  }
}
