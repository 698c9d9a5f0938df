package dev.warmstart.operator.reconciler.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.Optional;

/**
 * A cron schedule read as Kubernetes CronJobs read it: five Unix fields or a descriptor
 * (@hourly...), in an IANA time zone (UTC when none is given). Parsing and the calendar arithmetic
 * (month lengths, daylight-saving jumps) are cron-utils'.
 */
public final class CronSchedule {
  private static final CronParser PARSER =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  /** CronJob's descriptors (robfig/cron's), which cron-utils' Unix definition does not take. */
  private static final Map<String, String> DESCRIPTORS =
      Map.of(
          "@yearly", "0 0 1 1 *",
          "@annually", "0 0 1 1 *",
          "@monthly", "0 0 1 * *",
          "@weekly", "0 0 * * 0",
          "@daily", "0 0 * * *",
          "@midnight", "0 0 * * *",
          "@hourly", "0 * * * *");

  private final ExecutionTime times;
  private final ZoneId zone;

  private CronSchedule(ExecutionTime times, ZoneId zone) {
    this.times = times;
    this.zone = zone;
  }

  /** Why a schedule cannot be used: the field at fault and a message for a person. */
  public static final class InvalidException extends Exception {
    private final boolean timeZone;

    InvalidException(boolean timeZone, String message) {
      super(message);
      this.timeZone = timeZone;
    }

    /** True when the time zone is at fault, false for the cron expression. */
    public boolean timeZone() {
      return timeZone;
    }
  }

  public static CronSchedule parse(String expression, String timeZone) throws InvalidException {
    ZoneId zone;
    try {
      zone = timeZone == null ? ZoneOffset.UTC : ZoneId.of(timeZone);
    } catch (DateTimeException e) {
      throw new InvalidException(true, "unknown time zone '" + timeZone + "': " + e.getMessage());
    }
    Cron cron;
    try {
      String fields = expression.strip();
      cron = PARSER.parse(DESCRIPTORS.getOrDefault(fields, fields)).validate();
    } catch (IllegalArgumentException e) {
      throw new InvalidException(false, "invalid schedule '" + expression + "': " + e.getMessage());
    }
    return new CronSchedule(ExecutionTime.forCron(cron), zone);
  }

  /** The latest scheduled time at or before {@code now}. */
  public Optional<Instant> latestAtOrBefore(Instant now) {
    ZonedDateTime t = now.atZone(zone);
    if (times.isMatch(t.withNano(0)) && t.getSecond() == 0) {
      return Optional.of(t.withNano(0).toInstant());
    }
    return times.lastExecution(t).map(ZonedDateTime::toInstant);
  }

  /** The first scheduled time strictly after {@code t}. */
  public Optional<Instant> nextAfter(Instant t) {
    return times.nextExecution(t.atZone(zone)).map(ZonedDateTime::toInstant);
  }
}
