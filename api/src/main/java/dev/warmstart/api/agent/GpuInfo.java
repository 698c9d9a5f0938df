package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The GPUs a checkpointed workload used, as the agent records them in the image manifest and
 * reports them in an {@link ImageSummary}; a restore target is checked against it.
 *
 * @param model GPU model, e.g. "NVIDIA H100 80GB HBM3"
 * @param uuids the GPUs the workload used (GPU-...)
 * @param driverVersion NVIDIA driver version on the source node
 * @param memoryBytes GPU memory the workload held at capture
 * @param managedMemoryBytes GPU memory the GPU memory shim moved into the image itself; null when
 *     no process ran the shim
 * @param deviceUuids every GPU whose device node a CUDA process held open, used or not (the driver
 *     checkpoints all of them); null in images of older agents
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuInfo(
    String model,
    List<String> uuids,
    String driverVersion,
    Long memoryBytes,
    List<GpuProcess> processes,
    Long managedMemoryBytes,
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
