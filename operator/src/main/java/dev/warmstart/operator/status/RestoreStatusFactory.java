package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.PlaceholderReady;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;

import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.RestorePhase;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The GpuRestore status: the rules it shares with GpuCheckpoint ({@link OperationStatusFactory}),
 * plus its placeholder pod, its standby and activation, and its timings. Reconcilers only say what
 * happened.
 */
@Singleton
public class RestoreStatusFactory
    extends OperationStatusFactory<
        GpuRestore, GpuRestoreStatus, RestorePhase, RestoreStatusFactory.Builder> {

  public RestoreStatusFactory(Clock clock) {
    super(
        clock,
        new Phases<>(RestorePhase.Pending, RestorePhase.Restoring, RestorePhase.Failed),
        "restoring on node ");
  }

  /** The placeholder pod exists and is not running yet. */
  public GpuRestoreStatus scheduling(GpuRestore cr, String pod, String message) {
    Builder b = from(cr).phase(RestorePhase.Scheduling);
    b.pod = pod;
    return b.condition(Accepted, True, ConditionReason.Validated, "checkpoint found")
        .condition(PlaceholderReady, False, ConditionReason.PlaceholderPending, message)
        .build(message);
  }

  /** The agent accepted the restore into the running placeholder. */
  public GpuRestoreStatus dispatched(GpuRestore cr, String node, String operationId) {
    String pod = from(cr).pod;
    String msg =
        "restoring into pod " + pod + " on node " + node + " (operation " + operationId + ")";
    return dispatching(cr, node, operationId, msg)
        .condition(
            PlaceholderReady,
            True,
            ConditionReason.PlaceholderRunning,
            "pod " + pod + " runs on " + node)
        .build(msg);
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

  /** Terminal failure after work began; a placeholder's failure is also its condition's. */
  @Override
  public GpuRestoreStatus failed(GpuRestore cr, ConditionReason reason, String message) {
    Builder b = failing(cr, reason, message);
    if (reason == ConditionReason.PlaceholderUnschedulable
        || reason == ConditionReason.PlaceholderFailed) {
      b.condition(PlaceholderReady, False, reason, message);
    }
    return b.build(message);
  }

  @Override
  protected Builder from(GpuRestore cr) {
    return new Builder(cr.getMetadata().getGeneration(), cr.getStatus(), clock);
  }

  /** A GpuRestore's own fields: its pod, timings, activation and standby. */
  static final class Builder
      extends OperationStatusBuilder<GpuRestoreStatus, RestorePhase, Builder> {
    String pod;
    Map<String, Long> timings;
    String activation;
    String standby;

    Builder(Long generation, GpuRestoreStatus s, Clock clock) {
      super(generation, s, clock);
      if (s != null) {
        pod = s.podName();
        timings = s.timings();
        activation = s.activationOperationId();
        standby = s.standbyName();
      }
    }

    @Override
    public GpuRestoreStatus build(String message) {
      return new GpuRestoreStatus(
          phase,
          node,
          pod,
          generation(),
          conditions(),
          timings,
          operation,
          attempts,
          activation,
          standby,
          message);
    }
  }
}
