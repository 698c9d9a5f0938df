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

/** What to checkpoint and where to keep it. Immutable: a new capture is a new GpuCheckpoint. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self == oldSelf",
    message = "spec is immutable: create a new GpuCheckpoint instead",
    reason = "FieldValueForbidden")
public record GpuCheckpointSpec(
    @Required
        @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(min = 1, max = 253)
        @JsonPropertyDescription("Pod to checkpoint, in the GpuCheckpoint's namespace.")
        String podName,
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
    @JsonPropertyDescription("Where the image is kept. Default: node-local hostPath.")
        CheckpointStorage storage,
    @Default("600")
        @Min(1)
        @Max(86400)
        @JsonPropertyDescription(
            "Give up after this many seconds; the workload is resumed, never left frozen.")
        Integer timeoutSeconds,
    @JsonPropertyDescription(
            "HTTP call on the workload before the capture, e.g. to release cached GPU memory.")
        HttpHook preCheckpointHook) {

  public static final int DEFAULT_TIMEOUT_SECONDS = 600;

  public GpuCheckpointSpec {
    leaveRunning = leaveRunning == null ? Boolean.TRUE : leaveRunning;
    storage = storage == null ? CheckpointStorage.nodeLocal() : storage;
    timeoutSeconds = timeoutSeconds == null ? DEFAULT_TIMEOUT_SECONDS : timeoutSeconds;
  }
}
