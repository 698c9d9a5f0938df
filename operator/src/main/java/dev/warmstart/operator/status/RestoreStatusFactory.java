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

/** Owns every status and condition rule of GpuRestore; reconcilers only say what happened. */
@ApplicationScoped
public class RestoreStatusFactory {
  private final Clock clock;

  public RestoreStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /** Waiting for the checkpoint to finish. */
  public GpuRestoreStatus waiting(GpuRestore cr, ConditionReason reason, String message) {
    GpuRestoreStatus s = current(cr);
    return build(
        cr,
        RestorePhase.Pending,
        s.nodeName(),
        s.podName(),
        s.operationId(),
        s.attempts(),
        message,
        cond(cr, s.conditions(), Accepted, Unknown, reason, message));
  }

  /** Terminal refusal before anything was created. */
  public GpuRestoreStatus rejected(GpuRestore cr, ConditionReason reason, String message) {
    GpuRestoreStatus s = current(cr);
    List<Condition> c = cond(cr, s.conditions(), Accepted, False, reason, message);
    c = cond(cr, c, Ready, False, reason, message);
    return build(
        cr,
        RestorePhase.Failed,
        s.nodeName(),
        s.podName(),
        s.operationId(),
        s.attempts(),
        message,
        c);
  }

  /** The placeholder pod exists and is not running yet. */
  public GpuRestoreStatus scheduling(GpuRestore cr, String pod, String message) {
    GpuRestoreStatus s = current(cr);
    List<Condition> c =
        cond(cr, s.conditions(), Accepted, True, ConditionReason.Validated, "checkpoint found");
    c = cond(cr, c, PlaceholderReady, False, ConditionReason.PlaceholderPending, message);
    return build(
        cr, RestorePhase.Scheduling, s.nodeName(), pod, s.operationId(), s.attempts(), message, c);
  }

  /** The agent accepted the restore into the running placeholder. */
  public GpuRestoreStatus dispatched(GpuRestore cr, String node, String operationId) {
    GpuRestoreStatus s = current(cr);
    String msg =
        "restoring into pod "
            + s.podName()
            + " on node "
            + node
            + " (operation "
            + operationId
            + ")";
    List<Condition> c =
        cond(
            cr,
            s.conditions(),
            PlaceholderReady,
            True,
            ConditionReason.PlaceholderRunning,
            "pod " + s.podName() + " runs on " + node);
    c = cond(cr, c, Progressing, True, ConditionReason.Dispatched, msg);
    return build(
        cr, RestorePhase.Restoring, node, s.podName(), operationId, attempts(s) + 1, msg, c);
  }

  public GpuRestoreStatus progressing(GpuRestore cr, String step) {
    GpuRestoreStatus s = current(cr);
    String msg = "restoring on node " + s.nodeName() + ": " + (step == null ? "queued" : step);
    return build(
        cr,
        RestorePhase.Restoring,
        s.nodeName(),
        s.podName(),
        s.operationId(),
        s.attempts(),
        msg,
        cond(cr, s.conditions(), Progressing, True, ConditionReason.InProgress, msg));
  }

  public GpuRestoreStatus retrying(
      GpuRestore cr, String node, ConditionReason reason, String message) {
    GpuRestoreStatus s = current(cr);
    return build(
        cr,
        s.phase() == null ? RestorePhase.Pending : s.phase(),
        node,
        s.podName(),
        s.operationId(),
        attempts(s) + 1,
        message,
        cond(cr, s.conditions(), Progressing, Unknown, reason, message));
  }

  public GpuRestoreStatus running(GpuRestore cr, Integer pid, Map<String, Long> timings) {
    GpuRestoreStatus s = current(cr);
    String msg =
        (pid == null ? "the restored process" : "restored process " + pid)
            + " runs in pod "
            + s.podName()
            + " on "
            + s.nodeName();
    List<Condition> c =
        cond(cr, s.conditions(), Progressing, False, ConditionReason.Succeeded, msg);
    c = cond(cr, c, Ready, True, ConditionReason.Succeeded, msg);
    Map<String, Long> all = new LinkedHashMap<>();
    if (s.timings() != null) {
      all.putAll(s.timings());
    }
    all.putAll(timings == null ? Map.of() : timings);
    return new GpuRestoreStatus(
        RestorePhase.Running,
        s.nodeName(),
        s.podName(),
        generation(cr),
        c,
        all,
        s.operationId(),
        s.attempts(),
        s.activationOperationId(),
        s.standbyName(),
        msg);
  }

  /** A Warm or Hot standby is in its pod, waiting for the activation annotation. */
  public GpuRestoreStatus standby(GpuRestore cr, Integer pid, Map<String, Long> timings) {
    GpuRestoreStatus s = current(cr);
    String msg =
        cr.getSpec().standby()
            + " standby: process "
            + pid
            + " waits in pod "
            + s.podName()
            + "; set annotation warmstart.dev/activate=true to run it";
    List<Condition> c =
        cond(cr, s.conditions(), Progressing, False, ConditionReason.StandbyReady, msg);
    c = cond(cr, c, Ready, False, ConditionReason.StandbyReady, msg);
    return new GpuRestoreStatus(
        RestorePhase.Standby,
        s.nodeName(),
        s.podName(),
        generation(cr),
        c,
        timings,
        s.operationId(),
        s.attempts(),
        null,
        s.standbyName(),
        msg);
  }

  /** This restore took a pool's ready standby, which is now being activated. */
  public GpuRestoreStatus claimed(GpuRestore cr, String standby, String pod, String node) {
    GpuRestoreStatus s = current(cr);
    String msg =
        "took standby " + standby + " of pool " + cr.getSpec().poolName() + " (pod " + pod + ")";
    List<Condition> c =
        cond(cr, s.conditions(), Accepted, True, ConditionReason.Validated, "pool standby ready");
    c = cond(cr, c, PlaceholderReady, True, ConditionReason.PlaceholderRunning, msg);
    c = cond(cr, c, Progressing, True, ConditionReason.Activating, msg);
    return new GpuRestoreStatus(
        RestorePhase.Restoring,
        node,
        pod,
        generation(cr),
        c,
        s.timings(),
        null,
        s.attempts(),
        null,
        standby,
        msg);
  }

  /** The agent accepted the activation of a standby. */
  public GpuRestoreStatus activating(GpuRestore cr, String activationId) {
    GpuRestoreStatus s = current(cr);
    String msg =
        "activating the standby in pod " + s.podName() + " (operation " + activationId + ")";
    return new GpuRestoreStatus(
        RestorePhase.Restoring,
        s.nodeName(),
        s.podName(),
        generation(cr),
        cond(cr, s.conditions(), Progressing, True, ConditionReason.Activating, msg),
        s.timings(),
        s.operationId(),
        s.attempts(),
        activationId,
        s.standbyName(),
        msg);
  }

  /** The operator failed unexpectedly on this restore; phase kept, the reconcile is retried. */
  public GpuRestoreStatus reconcileError(GpuRestore cr, String message) {
    GpuRestoreStatus s = current(cr);
    return build(
        cr,
        s.phase(),
        s.nodeName(),
        s.podName(),
        s.operationId(),
        s.attempts(),
        message,
        cond(cr, s.conditions(), Progressing, Unknown, ConditionReason.ReconcileError, message));
  }

  /** Terminal failure after work began (the placeholder conditions follow a pod failure). */
  public GpuRestoreStatus failed(GpuRestore cr, ConditionReason reason, String message) {
    GpuRestoreStatus s = current(cr);
    List<Condition> c = cond(cr, s.conditions(), Progressing, False, reason, message);
    if (reason == ConditionReason.PlaceholderUnschedulable
        || reason == ConditionReason.PlaceholderFailed) {
      c = cond(cr, c, PlaceholderReady, False, reason, message);
    }
    c = cond(cr, c, Ready, False, reason, message);
    return build(
        cr,
        RestorePhase.Failed,
        s.nodeName(),
        s.podName(),
        s.operationId(),
        s.attempts(),
        message,
        c);
  }

  private GpuRestoreStatus build(
      GpuRestore cr,
      RestorePhase phase,
      String node,
      String pod,
      String op,
      Integer attempts,
      String message,
      List<Condition> conditions) {
    GpuRestoreStatus s = current(cr);
    return new GpuRestoreStatus(
        phase,
        node,
        pod,
        generation(cr),
        conditions,
        s.timings(),
        op,
        attempts,
        s.activationOperationId(),
        s.standbyName(),
        message);
  }

  private List<Condition> cond(
      GpuRestore cr,
      List<Condition> current,
      ConditionType type,
      ConditionStatus status,
      ConditionReason reason,
      String message) {
    return Conditions.with(current, type, status, reason, message, generation(cr), clock);
  }

  private static GpuRestoreStatus current(GpuRestore cr) {
    return cr.getStatus() != null
        ? cr.getStatus()
        : new GpuRestoreStatus(null, null, null, null, List.of(), null, null, 0, null, null, null);
  }

  private static int attempts(GpuRestoreStatus s) {
    return s.attempts() == null ? 0 : s.attempts();
  }

  private static Long generation(GpuRestore cr) {
    return cr.getMetadata().getGeneration();
  }
}
