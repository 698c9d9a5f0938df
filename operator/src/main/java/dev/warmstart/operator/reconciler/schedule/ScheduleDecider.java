package dev.warmstart.operator.reconciler.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * When a schedule runs, as a pure function of what was observed (so it is unit-tested with fixed
 * instants): the latest scheduled time not yet handled runs once, however many were missed, unless
 * it is later than the starting deadline or the previous checkpoint still runs (Forbid). Missed
 * times before it are not made up, as with CronJobs.
 */
public final class ScheduleDecider {
  private ScheduleDecider() {}

  /** Why a due run did not create a checkpoint. */
  public enum SkipReason {
    /** Forbid: the previous checkpoint of the schedule still runs. */
    PreviousStillRunning,
    /** The run is later than spec.startingDeadlineSeconds allows. */
    MissedDeadline
  }

  /** What to do now; {@code next} is the next scheduled time after now (absent: never again). */
  public sealed interface Verdict {
    Optional<Instant> next();
  }

  /** Create the checkpoint of the run scheduled at {@code scheduledAt}. */
  public record Run(Instant scheduledAt, Optional<Instant> next) implements Verdict {}

  /** Record the run scheduled at {@code scheduledAt} as skipped. */
  public record Skip(Instant scheduledAt, SkipReason reason, Optional<Instant> next)
      implements Verdict {}

  /** Nothing is due (or the schedule is suspended). */
  public record Wait(Optional<Instant> next) implements Verdict {}

  /**
   * @param handledUpTo the latest scheduled time already run or skipped, or the schedule's creation
   * @param startingDeadline how late a run may start; null: any delay
   */
  public static Verdict decide(
      CronSchedule cron,
      Instant handledUpTo,
      Instant now,
      boolean suspended,
      boolean previousRunning,
      Duration startingDeadline) {
    Optional<Instant> next = cron.nextAfter(now);
    Optional<Instant> due = cron.latestAtOrBefore(now).filter(t -> t.isAfter(handledUpTo));
    if (due.isEmpty() || suspended) {
      return new Wait(next);
    }
    Instant t = due.get();
    if (startingDeadline != null && t.plus(startingDeadline).isBefore(now)) {
      return new Skip(t, SkipReason.MissedDeadline, next);
    }
    if (previousRunning) {
      return new Skip(t, SkipReason.PreviousStillRunning, next);
    }
    return new Run(t, next);
  }
}
