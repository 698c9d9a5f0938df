package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Observed state of a GpuStandbyPool. Written only by the operator's status factory. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuStandbyPoolStatus(
    @JsonPropertyDescription("The metadata.generation last acted on.") Long observedGeneration,
    @JsonPropertyDescription("Standbys in phase Standby, ready to be taken.") Integer ready,
    @JsonPropertyDescription("Standbys that exist (ready or on their way).") Integer total,
    @JsonPropertyDescription("Each standby: its GpuRestore, pod, node, GPUs and phase.")
        List<Standby> standbys,
    @JsonPropertyDescription("Ready: all replicas are ready.") List<Condition> conditions)
    implements WarmstartStatus {

  /** One standby of the pool. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Standby(
      @JsonPropertyDescription("Its GpuRestore.") String restoreName,
      @JsonPropertyDescription("Its pod.") String podName,
      @JsonPropertyDescription("Its node.") String nodeName,
      @JsonPropertyDescription(
              "Reserved, not filled yet: which GPUs a standby holds is not reported.")
          List<String> gpuUuids,
      @JsonPropertyDescription("Its GpuRestore's phase.") RestorePhase phase) {}
}
