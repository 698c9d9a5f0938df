package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Map;

/** Observed state of a GpuCheckpoint. Written only by the operator's status factory. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuCheckpointStatus(
    @JsonPropertyDescription("Pending, Checkpointing, Succeeded or Failed.") CheckpointPhase phase,
    @JsonPropertyDescription("Node the pod runs on.") String nodeName,
    @JsonPropertyDescription("The metadata.generation last acted on.") Long observedGeneration,
    @JsonPropertyDescription("Current conditions: Accepted, Progressing, Ready.")
        List<Condition> conditions,
    @JsonPropertyDescription("The stored image, once Succeeded.") CheckpointArtifact artifact,
    @JsonPropertyDescription(
            "Milliseconds per phase, e.g. preCheckpointHook, freeze, gpuCheckpoint, dump, store.")
        Map<String, Long> timings,
    @JsonPropertyDescription("Node agent operation id of the capture in flight or done.")
        String operationId,
    @JsonPropertyDescription("Dispatch attempts so far (retries back off and stop at a limit).")
        Integer attempts,
    @JsonPropertyDescription("Last outcome, for a person.") String message)
    implements WarmstartStatus.OfOperation<CheckpointPhase> {}
