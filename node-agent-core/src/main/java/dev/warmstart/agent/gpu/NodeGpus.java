package dev.warmstart.agent.gpu;

import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.cuda.CudaException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The node's GPUs as restore decisions need them: which there are, the driver, free memory. {@link
 * GpuRuntime} answers from the driver; a test answers from a list, without a GPU.
 */
public interface NodeGpus {
  boolean available();

  /** Why there are no usable GPUs; null when there are. */
  String unavailableReason();

  List<CudaDevice> devices();

  /** The driver version, e.g. 580.159.04; null when unknown. */
  String driverVersion();

  /** Free memory of a GPU now; empty when it cannot be measured here (no NVML). */
  OptionalLong freeMemory(String uuid) throws CudaException;

  default Optional<CudaDevice> device(String uuid) {
    return devices().stream().filter(d -> d.uuid().equals(uuid)).findFirst();
  }
}
