package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** The GPUs a checkpointed workload used, to check a restore target against. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuInfo(
    @JsonPropertyDescription("GPU model, e.g. 'NVIDIA H100 80GB HBM3'.") String model,
    @JsonPropertyDescription("UUIDs of the GPUs the workload used (GPU-...).") List<String> uuids,
    @JsonPropertyDescription("NVIDIA driver version on the source node, e.g. 580.159.04.")
        String driverVersion,
    @JsonPropertyDescription("GPU memory the workload held at capture, in bytes.") Long memoryBytes,
    @JsonPropertyDescription("The workload's CUDA processes.") List<GpuProcess> processes,
    @JsonPropertyDescription(
            "GPU memory the GPU memory shim (libwarmstart_gpumem.so) moved into the image itself,"
                + " in bytes; absent when no process of the workload ran the shim. Restoring such"
                + " an image needs a node agent that drives the shim.")
        Long managedMemoryBytes,
    @JsonPropertyDescription(
            "UUIDs of every GPU whose device node a CUDA process of the workload held open, used or"
                + " not. The driver checkpoints all of them, so a restore onto other GPUs maps each"
                + " one; absent in images of older agents.")
        List<String> deviceUuids) {

  public GpuInfo(
      String model,
      List<String> uuids,
      String driverVersion,
      Long memoryBytes,
      List<GpuProcess> processes) {
    this(model, uuids, driverVersion, memoryBytes, processes, null, null);
  }

  /** This record with the shim's payload size. */
  public GpuInfo withManagedMemoryBytes(Long bytes) {
    return new GpuInfo(model, uuids, driverVersion, memoryBytes, processes, bytes, deviceUuids);
  }

  /** This record with the GPUs whose device nodes the workload held open. */
  public GpuInfo withDeviceUuids(List<String> open) {
    return new GpuInfo(
        model, uuids, driverVersion, memoryBytes, processes, managedMemoryBytes, open);
  }
}
