package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** When to checkpoint a workload, what to capture and how many checkpoints to keep. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!self.schedule.contains('TZ=')",
    message = "set the time zone with spec.timeZone, not TZ= or CRON_TZ= in spec.schedule")
public record GpuCheckpointScheduleSpec(
    @Required
        @Size(min = 1, max = 256)
        @JsonPropertyDescription(
            "Cron schedule as Kubernetes CronJobs take it: five fields (minute hour day-of-month"
                + " month day-of-week) or @yearly, @monthly, @weekly, @daily, @hourly. Checked by"
                + " the operator (condition Accepted).")
        String schedule,
    @Size(min = 1, max = 64)
        @JsonPropertyDescription(
            "IANA time zone the schedule is read in, e.g. Europe/Berlin. Default: UTC.")
        String timeZone,
    @Default("false") @JsonPropertyDescription("Stop creating checkpoints (retention still runs).")
        Boolean suspend,
    @Default("Forbid")
        @JsonPropertyDescription(
            "Forbid (the only policy): a run due while the previous checkpoint still runs is"
                + " skipped. Two captures of one container cannot overlap.")
        ConcurrencyPolicy concurrencyPolicy,
    @Min(1)
        @JsonPropertyDescription(
            "A run missed by more than this many seconds (e.g. while the operator was down) is"
                + " skipped. Default: a missed run is made up once, however late.")
        Long startingDeadlineSeconds,
    @Default("3")
        @Min(1)
        @Max(100)
        @JsonPropertyDescription(
            "Succeeded checkpoints to keep; older ones are deleted (with their images). The newest"
                + " succeeded one and any a GpuRestore or GpuStandbyPool names are never deleted.")
        Integer successfulCheckpointsHistoryLimit,
    @Default("1")
        @Min(0)
        @Max(100)
        @JsonPropertyDescription("Failed checkpoints to keep, for their conditions and events.")
        Integer failedCheckpointsHistoryLimit,
    @Required @JsonPropertyDescription("The GpuCheckpoint each run creates.")
        CheckpointTemplate checkpointTemplate) {

  public GpuCheckpointScheduleSpec {
    suspend = suspend == null ? Boolean.FALSE : suspend;
    concurrencyPolicy = concurrencyPolicy == null ? ConcurrencyPolicy.Forbid : concurrencyPolicy;
    successfulCheckpointsHistoryLimit =
        successfulCheckpointsHistoryLimit == null ? 3 : successfulCheckpointsHistoryLimit;
    failedCheckpointsHistoryLimit =
        failedCheckpointsHistoryLimit == null ? 1 : failedCheckpointsHistoryLimit;
  }
}
