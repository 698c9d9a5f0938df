package dev.warmstart.operator.reconciler.schedule;

import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import java.time.Instant;
import java.util.Map;

/** How a schedule reads its checkpoints: when each run was scheduled and how it ended. */
final class ScheduledCheckpoints {
  private ScheduledCheckpoints() {}

  /** The run's scheduled time (annotation), else the creation time. */
  static Instant created(GpuCheckpoint c) {
    Map<String, String> a = c.getMetadata().getAnnotations();
    String at = a == null ? null : a.get(GpuCheckpointSchedule.SCHEDULED_AT_ANNOTATION);
    return Instant.parse(at != null ? at : c.getMetadata().getCreationTimestamp());
  }

  static CheckpointPhase phase(GpuCheckpoint c) {
    return c.getStatus() == null ? null : c.getStatus().phase();
  }

  static boolean terminal(GpuCheckpoint c) {
    return phase(c) != null && phase(c).isTerminal();
  }

  static Retention.Outcome outcome(GpuCheckpoint c) {
    if (phase(c) == CheckpointPhase.Succeeded) {
      return Retention.Outcome.Succeeded;
    }
    return phase(c) == CheckpointPhase.Failed
        ? Retention.Outcome.Failed
        : Retention.Outcome.Running;
  }
}
