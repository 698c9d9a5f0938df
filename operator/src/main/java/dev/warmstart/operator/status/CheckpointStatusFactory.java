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

/**
 * Owns every status and condition rule of GpuCheckpoint; reconcilers only say what happened. Each
 * rule starts from the current status ({@link Builder}) and changes only what the event changes.
 */
@ApplicationScoped
public class CheckpointStatusFactory {
  private final Clock clock;

  public CheckpointStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /** Not started: waiting for something that may still come (a pod starting, an agent). */
  public GpuCheckpointStatus waiting(GpuCheckpoint cr, ConditionReason reason, String message) {
    Builder b = from(cr).phase(CheckpointPhase.Pending);
    b.operation = null;
    return b.condition(Accepted, Unknown, reason, message).build(message);
  }

  /** The request cannot work as written: terminal. */
  public GpuCheckpointStatus rejected(GpuCheckpoint cr, ConditionReason reason, String message) {
    return from(cr)
        .phase(CheckpointPhase.Failed)
        .condition(Accepted, False, reason, message)
        .condition(Ready, False, reason, message)
        .build(message);
  }

  /** The agent accepted the operation. */
  public GpuCheckpointStatus dispatched(GpuCheckpoint cr, String node, String operationId) {
    String msg = "checkpoint running on node " + node + " (operation " + operationId + ")";
    Builder b = from(cr).phase(CheckpointPhase.Checkpointing);
    b.node = node;
    b.operation = operationId;
    b.attempts = b.attempts() + 1;
    return b.condition(Accepted, True, ConditionReason.Validated, "pod, container and agent found")
        .condition(Progressing, True, ConditionReason.Dispatched, msg)
        .build(msg);
  }

  /** The operation runs; {@code step} is the agent's current step. */
  public GpuCheckpointStatus progressing(GpuCheckpoint cr, String step) {
    Builder b = from(cr);
    String msg = "checkpoint running on node " + b.node + ": " + (step == null ? "queued" : step);
    return b.phase(CheckpointPhase.Checkpointing)
        .condition(Progressing, True, ConditionReason.InProgress, msg)
        .build(msg);
  }

  /** The agent could not be reached or is missing; it will be tried again. */
  public GpuCheckpointStatus retrying(
      GpuCheckpoint cr, String node, ConditionReason reason, String message) {
    Builder b = from(cr);
    b.phase = b.phase == null ? CheckpointPhase.Pending : b.phase;
    b.node = node;
    b.attempts = b.attempts() + 1;
    return b.condition(Progressing, Unknown, reason, message).build(message);
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

  /** The operator failed unexpectedly on this checkpoint; phase kept, the reconcile is retried. */
  public GpuCheckpointStatus reconcileError(GpuCheckpoint cr, String message) {
    return from(cr)
        .condition(Progressing, Unknown, ConditionReason.ReconcileError, message)
        .build(message);
  }

  public GpuCheckpointStatus failed(GpuCheckpoint cr, ConditionReason reason, String message) {
    return from(cr)
        .phase(CheckpointPhase.Failed)
        .condition(Progressing, False, reason, message)
        .condition(Ready, False, reason, message)
        .build(message);
  }

  private Builder from(GpuCheckpoint cr) {
    return new Builder(cr);
  }

  /** The next status, starting as a copy of the current one. */
  private final class Builder {
    private final GpuCheckpoint cr;
    CheckpointPhase phase;
    String node;
    List<Condition> conditions;
    CheckpointArtifact artifact;
    Map<String, Long> timings;
    String operation;
    Integer attempts;

    Builder(GpuCheckpoint cr) {
      this.cr = cr;
      GpuCheckpointStatus s = cr.getStatus();
      if (s == null) {
        conditions = List.of();
        attempts = 0;
        return;
      }
      phase = s.phase();
      node = s.nodeName();
      conditions = s.conditions();
      artifact = s.artifact();
      timings = s.timings();
      operation = s.operationId();
      attempts = s.attempts();
    }

    Builder phase(CheckpointPhase p) {
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

    GpuCheckpointStatus build(String message) {
      return new GpuCheckpointStatus(
          phase,
          node,
          cr.getMetadata().getGeneration(),
          conditions,
          artifact,
          timings,
          operation,
          attempts,
          message);
    }
  }
}
