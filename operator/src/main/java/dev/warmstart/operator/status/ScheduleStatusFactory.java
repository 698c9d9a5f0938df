package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;
import static dev.warmstart.api.v1alpha1.ConditionType.StorageAvailable;

import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleStatus;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The GpuCheckpointSchedule status: Accepted (the schedule parses), Ready (the newest finished
 * checkpoint succeeded), StorageAvailable (the node's store has room for the next one).
 */
@Singleton
public class ScheduleStatusFactory
    extends StatusFactory<
        GpuCheckpointSchedule, GpuCheckpointScheduleStatus, ScheduleStatusFactory.Builder> {

  public ScheduleStatusFactory(Clock clock) {
    super(clock);
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

  public GpuCheckpointScheduleStatus invalid(
      GpuCheckpointSchedule cr, ConditionReason reason, String message) {
    Builder b = from(cr);
    b.next = null;
    return b.condition(Accepted, ConditionStatus.False, reason, message).build(message);
  }

  public GpuCheckpointScheduleStatus observed(GpuCheckpointSchedule cr, Observed o) {
    Builder b = from(cr);
    b.condition(
        Accepted,
        ConditionStatus.True,
        ConditionReason.Validated,
        "schedule '" + cr.getSpec().schedule() + "' in " + zone(cr));
    ready(b, o.newestFinished());
    if (o.storage() != null) {
      b.condition(
          StorageAvailable, o.storage().status(), o.storage().reason(), o.storage().message());
    }
    if (o.scheduled() != null) {
      b.scheduled = o.scheduled().toString();
    }
    if (o.skipped() != null) {
      b.skipped = o.skipped().toString();
    }
    b.next = o.next().map(Instant::toString).orElse(null);
    o.lastSucceeded()
        .ifPresent(
            c -> {
              b.lastSuccessful = c.name();
              b.lastSuccessfulTime = c.created().toString();
            });
    b.active = o.active().isEmpty() ? null : List.copyOf(o.active());
    return b.build(o.message() != null ? o.message() : b.message);
  }

  private static void ready(Builder b, Optional<Child> newestFinished) {
    if (newestFinished.isEmpty()) {
      b.condition(
          Ready,
          ConditionStatus.Unknown,
          ConditionReason.NoCheckpointYet,
          "no checkpoint of this schedule has finished yet");
      return;
    }
    Child n = newestFinished.get();
    if (n.phase() == CheckpointPhase.Succeeded) {
      b.condition(
          Ready,
          ConditionStatus.True,
          ConditionReason.Succeeded,
          "newest checkpoint " + n.name() + " succeeded");
      return;
    }
    b.condition(
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

  @Override
  protected ConditionType errorCondition() {
    return Ready;
  }

  @Override
  protected Builder from(GpuCheckpointSchedule cr) {
    return new Builder(cr.getMetadata().getGeneration(), cr.getStatus(), clock);
  }

  /** A schedule's own fields: its run times, newest good checkpoint and active checkpoints. */
  static final class Builder extends StatusBuilder<GpuCheckpointScheduleStatus, Builder> {
    String scheduled;
    String skipped;
    String next;
    String lastSuccessful;
    String lastSuccessfulTime;
    List<String> active;
    String message;

    Builder(Long generation, GpuCheckpointScheduleStatus s, Clock clock) {
      super(generation, s, clock);
      if (s != null) {
        scheduled = s.lastScheduleTime();
        skipped = s.lastSkippedTime();
        next = s.nextScheduleTime();
        lastSuccessful = s.lastSuccessfulCheckpoint();
        lastSuccessfulTime = s.lastSuccessfulTime();
        active = s.active();
        message = s.message();
      }
    }

    @Override
    public GpuCheckpointScheduleStatus build(String message) {
      return new GpuCheckpointScheduleStatus(
          generation(),
          scheduled,
          skipped,
          next,
          lastSuccessful,
          lastSuccessfulTime,
          active,
          conditions(),
          message);
    }
  }
}
