package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Map;

/** Observed state of a GpuRestore. Written only by the operator's status factory. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuRestoreStatus(
    @JsonPropertyDescription("Pending, Scheduling, Restoring, Standby, Running or Failed.")
        RestorePhase phase,
    @JsonPropertyDescription("Node of the restored pod.") String nodeName,
    @JsonPropertyDescription("The restored (placeholder) pod.") String podName,
    @JsonPropertyDescription("The metadata.generation last acted on.") Long observedGeneration,
    @JsonPropertyDescription("Current conditions: Accepted, PlaceholderReady, Progressing, Ready.")
        List<Condition> conditions,
    @JsonPropertyDescription(
            "Milliseconds per phase, e.g. scheduling, verify, criuRestore, gpuRestore, total.")
        Map<String, Long> timings,
    @JsonPropertyDescription("Node agent operation id of the restore in flight or done.")
        String operationId,
    @JsonPropertyDescription("Dispatch attempts so far (retries back off and stop at a limit).")
        Integer attempts,
    @JsonPropertyDescription("Node agent operation id of a standby's activation.")
        String activationOperationId,
    @JsonPropertyDescription("The pool standby (GpuRestore) this restore took, if it named a pool.")
        String standbyName,
    @JsonPropertyDescription("Last outcome, for a person.") String message)
    implements WarmstartStatus.OfOperation<RestorePhase> {}
