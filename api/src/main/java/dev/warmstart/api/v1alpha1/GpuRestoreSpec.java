package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Map;

/** Which checkpoint to bring back, and where. Immutable: a new restore is a new GpuRestore. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self == oldSelf",
    message = "spec is immutable: create a new GpuRestore instead",
    reason = "FieldValueForbidden")
@ValidationRule(
    value = "!has(self.nodeName) || !has(self.nodeSelector)",
    message = "set nodeName or nodeSelector, not both")
@ValidationRule(
    value = "!has(self.poolName) || !has(self.gpuRemap) || self.gpuRemap != 'SameGpu'",
    message =
        "gpuRemap: SameGpu cannot take a pool's standby (it already runs on the GPUs its pod got)")
public record GpuRestoreSpec(
    @Required
        @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(min = 1, max = 253)
        @JsonPropertyDescription(
            "GpuCheckpoint to restore, in the same namespace; must be Succeeded.")
        String checkpointName,
    @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(max = 253)
        @JsonPropertyDescription("Name of the restored pod. Default: <GpuRestore name>-restored.")
        String podName,
    @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(max = 253)
        @JsonPropertyDescription(
            "Pin the restore to this node. A node-local checkpoint can only be restored on its node.")
        String nodeName,
    @JsonPropertyDescription("Restore onto a node with these labels.")
        Map<String, String> nodeSelector,
    @Default("Auto")
        @JsonPropertyDescription(
            "Auto: remap to the GPUs the new pod got if they are the same model. SameGpu: fail"
                + " (IncompatibleGpu) unless they are the very GPUs (UUIDs) of the checkpoint;"
                + " not with poolName.")
        GpuRemapPolicy gpuRemap,
    @Default("None")
        @JsonPropertyDescription(
            "None: restore and run. Warm or Hot: stop in phase Standby until the annotation "
                + "warmstart.dev/activate: \"true\" is set. A standby pod requests the same GPUs as the "
                + "workload: Kubernetes counts them as taken while it waits (a Warm standby holds no "
                + "GPU memory, a Hot one holds all of its own).")
        StandbyMode standby,
    @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(max = 253)
        @JsonPropertyDescription(
            "Take a ready standby of this GpuStandbyPool (of the same checkpoint) and activate it,"
                + " instead of restoring from scratch; preferring one on spec.nodeName.")
        String poolName,
    @JsonPropertyDescription(
            "HTTP call on the workload once it runs again (after the restore, or after a standby's"
                + " activation), e.g. a warm-up; a failure or timeout fails the restore (HookFailed).")
        HttpHook postRestoreHook) {

  /** The annotation that activates a standby. */
  public static final String ACTIVATE_ANNOTATION = "warmstart.dev/activate";

  public GpuRestoreSpec(
      String checkpointName,
      String podName,
      String nodeName,
      Map<String, String> nodeSelector,
      GpuRemapPolicy gpuRemap) {
    this(checkpointName, podName, nodeName, nodeSelector, gpuRemap, null, null, null);
  }

  public GpuRestoreSpec(
      String checkpointName,
      String podName,
      String nodeName,
      Map<String, String> nodeSelector,
      GpuRemapPolicy gpuRemap,
      StandbyMode standby) {
    this(checkpointName, podName, nodeName, nodeSelector, gpuRemap, standby, null, null);
  }

  public GpuRestoreSpec(
      String checkpointName,
      String podName,
      String nodeName,
      Map<String, String> nodeSelector,
      GpuRemapPolicy gpuRemap,
      StandbyMode standby,
      String poolName) {
    this(checkpointName, podName, nodeName, nodeSelector, gpuRemap, standby, poolName, null);
  }

  public GpuRestoreSpec {
    gpuRemap = gpuRemap == null ? GpuRemapPolicy.Auto : gpuRemap;
    standby = standby == null ? StandbyMode.None : standby;
    nodeSelector = nodeSelector == null ? null : Map.copyOf(nodeSelector);
  }
}
