package dev.warmstart.operator.reconciler.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.operator.reconciler.schedule.ScheduleDecider.Run;
import dev.warmstart.operator.reconciler.schedule.ScheduleDecider.Skip;
import dev.warmstart.operator.reconciler.schedule.ScheduleDecider.SkipReason;
import dev.warmstart.operator.reconciler.schedule.ScheduleDecider.Verdict;
import dev.warmstart.operator.reconciler.schedule.ScheduleDecider.Wait;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When runs are due, with fixed instants (the clock is a parameter of the pure function). */
class ScheduleDeciderTest {
  private static final Instant CREATED = Instant.parse("2026-11-24T09:58:00Z");

  private static CronSchedule cron(String expr, String zone) throws Exception {
    return CronSchedule.parse(expr, zone);
  }

  private static Verdict decide(CronSchedule c, Instant handled, String now, boolean running) {
    return ScheduleDecider.decide(c, handled, Instant.parse(now), false, running, null);
  }

  @Test
  void nothingIsDueBeforeTheFirstScheduledTime() throws Exception {
    Verdict v = decide(cron("0 * * * *", null), CREATED, "2026-11-24T09:59:30Z", false);
    assertThat(v).isEqualTo(new Wait(Optional.of(Instant.parse("2026-11-24T10:00:00Z"))));
  }

  @Test
  void aDueRunRunsOnceAtItsScheduledTime() throws Exception {
    CronSchedule hourly = cron("0 * * * *", null);
    Verdict v = decide(hourly, CREATED, "2026-11-24T10:00:00Z", false);
    assertThat(v)
        .isEqualTo(
            new Run(
                Instant.parse("2026-11-24T10:00:00Z"),
                Optional.of(Instant.parse("2026-11-24T11:00:00Z"))));
    // Once recorded as handled, the same time is not due again.
    Instant handled = ((Run) v).scheduledAt();
    assertThat(decide(hourly, handled, "2026-11-24T10:00:01Z", false)).isInstanceOf(Wait.class);
  }

  @Test
  void manyMissedRunsBecomeOneRunOfTheLatest() throws Exception {
    Verdict v = decide(cron("*/5 * * * *", null), CREATED, "2026-11-24T13:07:00Z", false);
    assertThat(((Run) v).scheduledAt()).isEqualTo(Instant.parse("2026-11-24T13:05:00Z"));
    assertThat(v.next()).contains(Instant.parse("2026-11-24T13:10:00Z"));
  }

  @Test
  void forbidSkipsARunWhileThePreviousCheckpointRuns() throws Exception {
    Verdict v = decide(cron("0 * * * *", null), CREATED, "2026-11-24T10:00:05Z", true);
    assertThat(v)
        .isEqualTo(
            new Skip(
                Instant.parse("2026-11-24T10:00:00Z"),
                SkipReason.PreviousStillRunning,
                Optional.of(Instant.parse("2026-11-24T11:00:00Z"))));
  }

  @Test
  void aRunLaterThanTheStartingDeadlineIsSkipped() throws Exception {
    CronSchedule hourly = cron("@hourly", null);
    Instant now = Instant.parse("2026-11-24T10:20:00Z");
    Verdict late =
        ScheduleDecider.decide(hourly, CREATED, now, false, false, Duration.ofMinutes(10));
    assertThat(late).isInstanceOf(Skip.class);
    assertThat(((Skip) late).reason()).isEqualTo(SkipReason.MissedDeadline);
    Verdict inTime =
        ScheduleDecider.decide(hourly, CREATED, now, false, false, Duration.ofMinutes(30));
    assertThat(inTime).isInstanceOf(Run.class);
  }

  @Test
  void aSuspendedScheduleWaitsButStillKnowsItsNextRun() throws Exception {
    Verdict v =
        ScheduleDecider.decide(
            cron("@daily", null),
            CREATED,
            Instant.parse("2026-11-25T03:00:00Z"),
            true,
            false,
            null);
    assertThat(v).isEqualTo(new Wait(Optional.of(Instant.parse("2026-11-26T00:00:00Z"))));
  }

  @Test
  void theTimeZoneDecidesWhenMidnightIs() throws Exception {
    // 02:30 in Berlin (UTC+1 in November) is 01:30 UTC.
    CronSchedule berlin = cron("30 2 * * *", "Europe/Berlin");
    Verdict v = decide(berlin, CREATED, "2026-11-25T01:30:00Z", false);
    assertThat(((Run) v).scheduledAt()).isEqualTo(Instant.parse("2026-11-25T01:30:00Z"));
    assertThat(decide(cron("30 2 * * *", null), CREATED, "2026-11-25T01:30:00Z", false))
        .isInstanceOf(Wait.class);
  }

  @Test
  void daylightSavingTimeIsTheCalendarsNotOurs() throws Exception {
    // Berlin leaves summer time on 2026-10-25: 02:30 happens twice, 03:00 CET is 02:00 UTC.
    CronSchedule berlin = cron("0 3 * * *", "Europe/Berlin");
    assertThat(berlin.nextAfter(Instant.parse("2026-10-24T12:00:00Z")))
        .contains(Instant.parse("2026-10-25T02:00:00Z"));
    assertThat(berlin.nextAfter(Instant.parse("2026-10-23T12:00:00Z")))
        .contains(Instant.parse("2026-10-24T01:00:00Z"));
  }

  @Test
  void badExpressionsAndZonesAreRejectedWithTheFieldAtFault() {
    assertThatThrownBy(() -> cron("61 * * * *", null))
        .isInstanceOfSatisfying(
            CronSchedule.InvalidException.class, e -> assertThat(e.timeZone()).isFalse())
        .hasMessageContaining("invalid schedule '61 * * * *'");
    assertThatThrownBy(() -> cron("0 * * * * *", null))
        .isInstanceOf(CronSchedule.InvalidException.class);
    assertThatThrownBy(() -> cron("0 * * * *", "Mars/Olympus"))
        .isInstanceOfSatisfying(
            CronSchedule.InvalidException.class, e -> assertThat(e.timeZone()).isTrue())
        .hasMessageContaining("unknown time zone 'Mars/Olympus'");
  }

  @Test
  void descriptorsMeanWhatTheyMeanForCronJobs() throws Exception {
    Instant wed = Instant.parse("2026-11-25T10:00:00Z");
    assertThat(cron("@weekly", null).nextAfter(wed))
        .contains(Instant.parse("2026-11-29T00:00:00Z"));
    assertThat(cron("@monthly", null).nextAfter(wed))
        .contains(Instant.parse("2026-12-01T00:00:00Z"));
    assertThat(cron("@yearly", null).nextAfter(wed))
        .contains(Instant.parse("2027-01-01T00:00:00Z"));
  }

  @Test
  void cronJobDescriptorsAreAccepted() throws Exception {
    for (String d :
        new String[] {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly"}) {
      assertThat(cron(d, null).nextAfter(CREATED)).as(d).isPresent();
    }
  }
}
