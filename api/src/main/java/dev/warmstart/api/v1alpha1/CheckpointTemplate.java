package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/**
 * The GpuCheckpoint a schedule creates on each run: a GpuCheckpoint spec whose pod is named, or
 * picked at run time by labels (pods of a Deployment change names on every rollout).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.podName) != has(self.podSelector)",
    message = "set exactly one of podName and podSelector")
public record CheckpointTemplate(
    @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(min = 1, max = 253)
        @JsonPropertyDescription("Pod to checkpoint, in the schedule's namespace.")
        String podName,
    @Size(min = 1)
        @JsonPropertyDescription(
            "Checkpoint a running pod with these labels instead, chosen at each run: the oldest"
                + " one (then by name), so runs keep capturing the same replica while it lives.")
        Map<String, String> podSelector,
    @Pattern(ApiNames.DNS_LABEL)
        @Size(max = 63)
        @JsonPropertyDescription(
            "Container to checkpoint. Default: the pod's only container, or the one that "
                + "requests nvidia.com/gpu.")
        String containerName,
    @Default("true")
        @JsonPropertyDescription(
            "Keep the workload running after the capture (true) or stop it (false).")
        Boolean leaveRunning,
    @JsonPropertyDescription("Where the images are kept. Default: node-local hostPath.")
        CheckpointStorage storage,
    @Default("600")
        @Min(1)
        @Max(86400)
        @JsonPropertyDescription(
            "Give up on a capture after this many seconds; the workload is resumed.")
        Integer timeoutSeconds,
    @JsonPropertyDescription(
            "HTTP call on the workload before each capture, e.g. to release cached GPU memory.")
        HttpHook preCheckpointHook) {

  public CheckpointTemplate {
    podSelector = podSelector == null ? null : Map.copyOf(podSelector);
  }

  /** The spec of one run's GpuCheckpoint, for the pod chosen for it. */
  public GpuCheckpointSpec specFor(String pod) {
    return new GpuCheckpointSpec(
        pod, containerName, leaveRunning, storage, timeoutSeconds, preCheckpointHook);
  }
}
