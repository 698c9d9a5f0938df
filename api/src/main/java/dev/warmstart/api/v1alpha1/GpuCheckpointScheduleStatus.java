package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Observed state of a GpuCheckpointSchedule. Written only by the operator's status factory. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuCheckpointScheduleStatus(
    @JsonPropertyDescription("The metadata.generation last acted on.") Long observedGeneration,
    @JsonPropertyDescription("Scheduled time of the last run that created a checkpoint.")
        String lastScheduleTime,
    @JsonPropertyDescription(
            "Scheduled time of the last run that was skipped (see message and events).")
        String lastSkippedTime,
    @JsonPropertyDescription("When the next run is due (RFC 3339).") String nextScheduleTime,
    @JsonPropertyDescription("The newest Succeeded checkpoint of this schedule.")
        String lastSuccessfulCheckpoint,
    @JsonPropertyDescription("When that checkpoint was created (RFC 3339).")
        String lastSuccessfulTime,
    @JsonPropertyDescription("Checkpoints of this schedule that are not finished yet.")
        List<String> active,
    @JsonPropertyDescription("Current conditions: Accepted, Ready, StorageAvailable.")
        List<Condition> conditions,
    @JsonPropertyDescription("Last outcome, for a person.") String message)
    implements WarmstartStatus {}
