package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.PlaceholderReady;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;

import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.RestorePhase;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Owns every status and condition rule of GpuRestore; reconcilers only say what happened. Each rule
 * starts from the current status ({@link Builder}) and changes only what the event changes.
 */
@ApplicationScoped
public class RestoreStatusFactory {
  private final Clock clock;

  public RestoreStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /** Waiting for the checkpoint to finish. */
  public GpuRestoreStatus waiting(GpuRestore cr, ConditionReason reason, String message) {
    return from(cr)
        .phase(RestorePhase.Pending)
        .condition(Accepted, Unknown, reason, message)
        .build(message);
  }

  /** Terminal refusal before anything was created. */
  public GpuRestoreStatus rejected(GpuRestore cr, ConditionReason reason, String message) {
    return from(cr)
        .phase(RestorePhase.Failed)
        .condition(Accepted, False, reason, message)
        .condition(Ready, False, reason, message)
        .build(message);
  }

  /** The placeholder pod exists and is not running yet. */
  public GpuRestoreStatus scheduling(GpuRestore cr, String pod, String message) {
    Builder b = from(cr);
    b.phase = RestorePhase.Scheduling;
    b.pod = pod;
    return b.condition(Accepted, True, ConditionReason.Validated, "checkpoint found")
        .condition(PlaceholderReady, False, ConditionReason.PlaceholderPending, message)
        .build(message);
  }

  /** The agent accepted the restore into the running placeholder. */
  public GpuRestoreStatus dispatched(GpuRestore cr, String node, String operationId) {
    Builder b = from(cr);
    String msg =
        "restoring into pod " + b.pod + " on node " + node + " (operation " + operationId + ")";
    b.condition(
        PlaceholderReady,
        True,
        ConditionReason.PlaceholderRunning,
        "pod " + b.pod + " runs on " + node);
    b.phase = RestorePhase.Restoring;
    b.node = node;
    b.operation = operationId;
    b.attempts = b.attempts() + 1;
    return b.condition(Progressing, True, ConditionReason.Dispatched, msg).build(msg);
  }

  public GpuRestoreStatus progressing(GpuRestore cr, String step) {
    Builder b = from(cr);
    String msg = "restoring on node " + b.node + ": " + (step == null ? "queued" : step);
    return b.phase(RestorePhase.Restoring)
        .condition(Progressing, True, ConditionReason.InProgress, msg)
        .build(msg);
  }

  public GpuRestoreStatus retrying(
      GpuRestore cr, String node, ConditionReason reason, String message) {
    Builder b = from(cr);
    b.phase = b.phase == null ? RestorePhase.Pending : b.phase;
    b.node = node;
    b.attempts = b.attempts() + 1;
    return b.condition(Progressing, Unknown, reason, message).build(message);
  }

  public GpuRestoreStatus running(GpuRestore cr, Integer pid, Map<String, Long> timings) {
    Builder b = from(cr);
    String msg =
        (pid == null ? "the restored process" : "restored process " + pid)
            + " runs in pod "
            + b.pod
            + " on "
            + b.node;
    Map<String, Long> all = new LinkedHashMap<>();
    if (b.timings != null) {
      all.putAll(b.timings);
    }
    all.putAll(timings == null ? Map.of() : timings);
    b.timings = all;
    return b.phase(RestorePhase.Running)
        .condition(Progressing, False, ConditionReason.Succeeded, msg)
        .condition(Ready, True, ConditionReason.Succeeded, msg)
        .build(msg);
  }

  /** A Warm or Hot standby is in its pod, waiting for the activation annotation. */
  public GpuRestoreStatus standby(GpuRestore cr, Integer pid, Map<String, Long> timings) {
    Builder b = from(cr);
    String msg =
        cr.getSpec().standby()
            + " standby: process "
            + pid
            + " waits in pod "
            + b.pod
            + "; set annotation warmstart.dev/activate=true to run it";
    b.timings = timings;
    b.activation = null;
    return b.phase(RestorePhase.Standby)
        .condition(Progressing, False, ConditionReason.StandbyReady, msg)
        .condition(Ready, False, ConditionReason.StandbyReady, msg)
        .build(msg);
  }

  /** This restore took a pool's ready standby, which is now being activated. */
  public GpuRestoreStatus claimed(GpuRestore cr, String standby, String pod, String node) {
    String msg =
        "took standby " + standby + " of pool " + cr.getSpec().poolName() + " (pod " + pod + ")";
    Builder b = from(cr);
    b.node = node;
    b.pod = pod;
    b.operation = null;
    b.activation = null;
    b.standby = standby;
    return b.phase(RestorePhase.Restoring)
        .condition(Accepted, True, ConditionReason.Validated, "pool standby ready")
        .condition(PlaceholderReady, True, ConditionReason.PlaceholderRunning, msg)
        .condition(Progressing, True, ConditionReason.Activating, msg)
        .build(msg);
  }

  /** The agent accepted the activation of a standby. */
  public GpuRestoreStatus activating(GpuRestore cr, String activationId) {
    Builder b = from(cr);
    String msg = "activating the standby in pod " + b.pod + " (operation " + activationId + ")";
    b.activation = activationId;
    return b.phase(RestorePhase.Restoring)
        .condition(Progressing, True, ConditionReason.Activating, msg)
        .build(msg);
  }

  /** The operator failed unexpectedly on this restore; phase kept, the reconcile is retried. */
  public GpuRestoreStatus reconcileError(GpuRestore cr, String message) {
    return from(cr)
        .condition(Progressing, Unknown, ConditionReason.ReconcileError, message)
        .build(message);
  }

  /** Terminal failure after work began (the placeholder conditions follow a pod failure). */
  public GpuRestoreStatus failed(GpuRestore cr, ConditionReason reason, String message) {
    Builder b = from(cr).phase(RestorePhase.Failed).condition(Progressing, False, reason, message);
    if (reason == ConditionReason.PlaceholderUnschedulable
        || reason == ConditionReason.PlaceholderFailed) {
      b.condition(PlaceholderReady, False, reason, message);
    }
    return b.condition(Ready, False, reason, message).build(message);
  }

  private Builder from(GpuRestore cr) {
    return new Builder(cr);
  }

  /** The next status, starting as a copy of the current one. */
  private final class Builder {
    private final GpuRestore cr;
    RestorePhase phase;
    String node;
    String pod;
    List<Condition> conditions;
    Map<String, Long> timings;
    String operation;
    Integer attempts;
    String activation;
    String standby;

    Builder(GpuRestore cr) {
      this.cr = cr;
      GpuRestoreStatus s = cr.getStatus();
      if (s == null) {
        conditions = List.of();
        attempts = 0;
        return;
      }
      phase = s.phase();
      node = s.nodeName();
      pod = s.podName();
      conditions = s.conditions();
      timings = s.timings();
      operation = s.operationId();
      attempts = s.attempts();
      activation = s.activationOperationId();
      standby = s.standbyName();
    }

    Builder phase(RestorePhase p) {
      phase = p;
      return this;
    }

    /** The condition rules every CR shares ({@link Conditions}). */
    Builder condition(
        ConditionType type, ConditionStatus status, ConditionReason reason, String message) {
      conditions =
          Conditions.with(
              conditions, type, status, reason, message, cr.getMetadata().getGeneration(), clock);
      return this;
    }

    int attempts() {
      return attempts == null ? 0 : attempts;
    }

    GpuRestoreStatus build(String message) {
      return new GpuRestoreStatus(
          phase,
          node,
          pod,
          cr.getMetadata().getGeneration(),
          conditions,
          timings,
          operation,
          attempts,
          activation,
          standby,
          message);
    }
  }
}
