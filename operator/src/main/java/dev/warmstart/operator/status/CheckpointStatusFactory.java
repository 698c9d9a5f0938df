package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;

import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/** Owns every status and condition rule of GpuCheckpoint; reconcilers only say what happened. */
@ApplicationScoped
public class CheckpointStatusFactory {
  private final Clock clock;

  public CheckpointStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /** Not started: waiting for something that may still come (a pod starting, an agent). */
  public GpuCheckpointStatus waiting(GpuCheckpoint cr, ConditionReason reason, String message) {
    GpuCheckpointStatus s = current(cr);
    return build(
        cr,
        CheckpointPhase.Pending,
        s.nodeName(),
        null,
        s.attempts(),
        message,
        cond(cr, s.conditions(), Accepted, Unknown, reason, message));
  }

  /** The request cannot work as written: terminal. */
  public GpuCheckpointStatus rejected(GpuCheckpoint cr, ConditionReason reason, String message) {
    GpuCheckpointStatus s = current(cr);
    List<Condition> c = cond(cr, s.conditions(), Accepted, False, reason, message);
    c = cond(cr, c, Ready, False, reason, message);
    return build(
        cr, CheckpointPhase.Failed, s.nodeName(), s.operationId(), s.attempts(), message, c);
  }

  /** The agent accepted the operation. */
  public GpuCheckpointStatus dispatched(GpuCheckpoint cr, String node, String operationId) {
    GpuCheckpointStatus s = current(cr);
    String msg = "checkpoint running on node " + node + " (operation " + operationId + ")";
    List<Condition> c =
        cond(
            cr,
            s.conditions(),
            Accepted,
            True,
            ConditionReason.Validated,
            "pod, container and agent found");
    c = cond(cr, c, Progressing, True, ConditionReason.Dispatched, msg);
    return build(cr, CheckpointPhase.Checkpointing, node, operationId, attempts(s) + 1, msg, c);
  }

  /** The operation runs; {@code step} is the agent's current step. */
  public GpuCheckpointStatus progressing(GpuCheckpoint cr, String step) {
    GpuCheckpointStatus s = current(cr);
    String msg =
        "checkpoint running on node " + s.nodeName() + ": " + (step == null ? "queued" : step);
    return build(
        cr,
        CheckpointPhase.Checkpointing,
        s.nodeName(),
        s.operationId(),
        s.attempts(),
        msg,
        cond(cr, s.conditions(), Progressing, True, ConditionReason.InProgress, msg));
  }

  /** The agent could not be reached or is missing; it will be tried again. */
  public GpuCheckpointStatus retrying(
      GpuCheckpoint cr, String node, ConditionReason reason, String message) {
    GpuCheckpointStatus s = current(cr);
    return build(
        cr,
        s.phase() == null ? CheckpointPhase.Pending : s.phase(),
        node,
        s.operationId(),
        attempts(s) + 1,
        message,
        cond(cr, s.conditions(), Progressing, Unknown, reason, message));
  }

  public GpuCheckpointStatus succeeded(
      GpuCheckpoint cr, CheckpointArtifact artifact, Map<String, Long> timings) {
    GpuCheckpointStatus s = current(cr);
    String msg = "checkpoint stored at " + artifact.location() + " (" + artifact.digest() + ")";
    List<Condition> c =
        cond(cr, s.conditions(), Progressing, False, ConditionReason.Succeeded, msg);
    c = cond(cr, c, Ready, True, ConditionReason.Succeeded, msg);
    return new GpuCheckpointStatus(
        CheckpointPhase.Succeeded,
        s.nodeName(),
        generation(cr),
        c,
        artifact,
        timings,
        s.operationId(),
        s.attempts(),
        msg);
  }

  /** The operator failed unexpectedly on this checkpoint; phase kept, the reconcile is retried. */
  public GpuCheckpointStatus reconcileError(GpuCheckpoint cr, String message) {
    GpuCheckpointStatus s = current(cr);
    return build(
        cr,
        s.phase(),
        s.nodeName(),
        s.operationId(),
        s.attempts(),
        message,
        cond(cr, s.conditions(), Progressing, Unknown, ConditionReason.ReconcileError, message));
  }

  public GpuCheckpointStatus failed(GpuCheckpoint cr, ConditionReason reason, String message) {
    GpuCheckpointStatus s = current(cr);
    List<Condition> c = cond(cr, s.conditions(), Progressing, False, reason, message);
    c = cond(cr, c, Ready, False, reason, message);
    return build(
        cr, CheckpointPhase.Failed, s.nodeName(), s.operationId(), s.attempts(), message, c);
  }

  private GpuCheckpointStatus build(
      GpuCheckpoint cr,
      CheckpointPhase phase,
      String node,
      String op,
      Integer attempts,
      String message,
      List<Condition> conditions) {
    GpuCheckpointStatus s = current(cr);
    return new GpuCheckpointStatus(
        phase, node, generation(cr), conditions, s.artifact(), s.timings(), op, attempts, message);
  }

  private List<Condition> cond(
      GpuCheckpoint cr,
      List<Condition> current,
      ConditionType type,
      ConditionStatus status,
      ConditionReason reason,
      String message) {
    return Conditions.with(current, type, status, reason, message, generation(cr), clock);
  }

  private static GpuCheckpointStatus current(GpuCheckpoint cr) {
    return cr.getStatus() != null
        ? cr.getStatus()
        : new GpuCheckpointStatus(null, null, null, List.of(), null, null, null, 0, null);
  }

  private static int attempts(GpuCheckpointStatus s) {
    return s.attempts() == null ? 0 : s.attempts();
  }

  private static Long generation(GpuCheckpoint cr) {
    return cr.getMetadata().getGeneration();
  }
}
