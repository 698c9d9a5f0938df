package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;
import static dev.warmstart.api.v1alpha1.ConditionType.StorageAvailable;

import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleStatus;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Owns the GpuCheckpointSchedule status: Accepted (the schedule parses), Ready (the newest finished
 * checkpoint succeeded), StorageAvailable (the node's store has room for the next one).
 */
@ApplicationScoped
public class ScheduleStatusFactory {
  private final Clock clock;

  public ScheduleStatusFactory(Clock clock) {
    this.clock = clock;
  }

  /** A checkpoint of the schedule, as far as its status goes. */
  public record Child(String name, Instant created, CheckpointPhase phase, String message) {}

  /** What the storage check found before a run; absent when no run was checked. */
  public record Storage(ConditionStatus status, ConditionReason reason, String message) {}

  /**
   * What one reconcile observed and did. Null times keep what the status had.
   *
   * @param newestFinished the newest Succeeded or Failed checkpoint
   */
  public record Observed(
      List<String> active,
      Optional<Child> lastSucceeded,
      Optional<Child> newestFinished,
      Optional<Instant> next,
      Instant scheduled,
      Instant skipped,
      Storage storage,
      String message) {}

  /** The operator failed unexpectedly on this schedule; the reconcile is retried. */
  public GpuCheckpointScheduleStatus reconcileError(GpuCheckpointSchedule cr, String message) {
    GpuCheckpointScheduleStatus s = current(cr);
    List<Condition> c =
        cond(
            cr,
            s.conditions(),
            Ready,
            ConditionStatus.Unknown,
            ConditionReason.ReconcileError,
            message);
    return new GpuCheckpointScheduleStatus(
        generation(cr),
        s.lastScheduleTime(),
        s.lastSkippedTime(),
        s.nextScheduleTime(),
        s.lastSuccessfulCheckpoint(),
        s.lastSuccessfulTime(),
        s.active(),
        c,
        message);
  }

  public GpuCheckpointScheduleStatus invalid(
      GpuCheckpointSchedule cr, ConditionReason reason, String message) {
    GpuCheckpointScheduleStatus s = current(cr);
    List<Condition> c = cond(cr, s.conditions(), Accepted, ConditionStatus.False, reason, message);
    return new GpuCheckpointScheduleStatus(
        generation(cr),
        s.lastScheduleTime(),
        s.lastSkippedTime(),
        null,
        s.lastSuccessfulCheckpoint(),
        s.lastSuccessfulTime(),
        s.active(),
        c,
        message);
  }

  public GpuCheckpointScheduleStatus observed(GpuCheckpointSchedule cr, Observed o) {
    GpuCheckpointScheduleStatus s = current(cr);
    List<Condition> c =
        cond(
            cr,
            s.conditions(),
            Accepted,
            ConditionStatus.True,
            ConditionReason.Validated,
            "schedule '" + cr.getSpec().schedule() + "' in " + zone(cr));
    c = ready(cr, c, o.newestFinished());
    if (o.storage() != null) {
      c =
          cond(
              cr,
              c,
              StorageAvailable,
              o.storage().status(),
              o.storage().reason(),
              o.storage().message());
    }
    return new GpuCheckpointScheduleStatus(
        generation(cr),
        o.scheduled() != null ? o.scheduled().toString() : s.lastScheduleTime(),
        o.skipped() != null ? o.skipped().toString() : s.lastSkippedTime(),
        o.next().map(Instant::toString).orElse(null),
        o.lastSucceeded().map(Child::name).orElse(s.lastSuccessfulCheckpoint()),
        o.lastSucceeded().map(x -> x.created().toString()).orElse(s.lastSuccessfulTime()),
        o.active().isEmpty() ? null : List.copyOf(o.active()),
        c,
        o.message() != null ? o.message() : s.message());
  }

  private List<Condition> ready(
      GpuCheckpointSchedule cr, List<Condition> c, Optional<Child> newestFinished) {
    if (newestFinished.isEmpty()) {
      return cond(
          cr,
          c,
          Ready,
          ConditionStatus.Unknown,
          ConditionReason.NoCheckpointYet,
          "no checkpoint of this schedule has finished yet");
    }
    Child n = newestFinished.get();
    if (n.phase() == CheckpointPhase.Succeeded) {
      return cond(
          cr,
          c,
          Ready,
          ConditionStatus.True,
          ConditionReason.Succeeded,
          "newest checkpoint " + n.name() + " succeeded");
    }
    return cond(
        cr,
        c,
        Ready,
        ConditionStatus.False,
        ConditionReason.CheckpointFailed,
        "newest checkpoint "
            + n.name()
            + " failed"
            + (n.message() == null ? "" : ": " + n.message()));
  }

  private static String zone(GpuCheckpointSchedule cr) {
    return cr.getSpec().timeZone() == null ? "UTC" : cr.getSpec().timeZone();
  }

  private List<Condition> cond(
      GpuCheckpointSchedule cr,
      List<Condition> current,
      ConditionType type,
      ConditionStatus status,
      ConditionReason reason,
      String message) {
    return Conditions.with(current, type, status, reason, message, generation(cr), clock);
  }

  private static GpuCheckpointScheduleStatus current(GpuCheckpointSchedule cr) {
    return cr.getStatus() != null
        ? cr.getStatus()
        : new GpuCheckpointScheduleStatus(
            null, null, null, null, null, null, null, List.of(), null);
  }

  private static Long generation(GpuCheckpointSchedule cr) {
    return cr.getMetadata().getGeneration();
  }
}
