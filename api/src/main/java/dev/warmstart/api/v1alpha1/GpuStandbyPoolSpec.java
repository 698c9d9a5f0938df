package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** How many standbys of which checkpoint to keep, and of which tier. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.tier != 'None'",
    message = "a pool keeps Warm or Hot standbys; tier None is a plain GpuRestore")
public record GpuStandbyPoolSpec(
    @Required
        @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(min = 1, max = 253)
        @JsonPropertyDescription("GpuCheckpoint the standbys restore, in the same namespace.")
        String checkpointName,
    @Default("1") @Min(0) @Max(64) @JsonPropertyDescription("Standbys to keep ready.")
        Integer replicas,
    @Default("Warm")
        @JsonPropertyDescription(
            "Warm: no GPU memory held while waiting, activation in seconds. Hot: GPU memory held,"
                + " activation in milliseconds. Both standby pods request the workload's GPUs.")
        StandbyMode tier,
    @JsonPropertyDescription("Nodes for the standbys (a node-local checkpoint pins them anyway).")
        Map<String, String> nodeSelector) {

  public GpuStandbyPoolSpec {
    replicas = replicas == null ? 1 : replicas;
    tier = tier == null ? StandbyMode.Warm : tier;
    nodeSelector = nodeSelector == null ? null : Map.copyOf(nodeSelector);
  }
}
