package dev.warmstart.agent.gpu;

import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.cuda.CudaDriver;
import dev.warmstart.agent.cuda.CudaException;
import dev.warmstart.agent.cuda.Nvml;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.jboss.logging.Logger;

/**
 * The node's GPUs as the driver shows them, or the reason there are none. Found once at start: a
 * node without libcuda, or with GPUs turned off, runs CPU-only and says why.
 *
 * @param nvml empty where NVML cannot be loaded: memory use and per-process GPUs are then unknown
 */
public record GpuRuntime(
    Optional<CudaDriver> cuda,
    Optional<Nvml> nvml,
    List<CudaDevice> devices,
    String driverVersion,
    long cudaInitMs,
    String unavailableReason)
    implements NodeGpus {
  private static final Logger LOG = Logger.getLogger(GpuRuntime.class);

  public static GpuRuntime none(String reason) {
    return new GpuRuntime(Optional.empty(), Optional.empty(), List.of(), null, 0, reason);
  }

  @Override
  public boolean available() {
    return cuda.isPresent() && !devices.isEmpty();
  }

  @Override
  public OptionalLong freeMemory(String uuid) throws CudaException {
    return nvml.isEmpty() ? OptionalLong.empty() : OptionalLong.of(nvml.get().memory(uuid).free());
  }

  public static GpuRuntime detect(GpuSettings settings) {
    if (!settings.enabled()) {
      return none("GPU support is turned off (warmstart.agent.gpu.enabled=false)");
    }
    long t = System.nanoTime();
    CudaDriver cuda;
    List<CudaDevice> devices;
    try {
      cuda = CudaDriver.load(settings.libcuda());
      devices = cuda.devices();
    } catch (UnsatisfiedLinkError e) {
      return none("no CUDA driver on this node (" + firstLine(e.getMessage()) + ")");
    } catch (CudaException e) {
      return none("the CUDA driver did not start: " + e.getMessage());
    }
    long initMs = (System.nanoTime() - t) / 1_000_000;
    Optional<Nvml> nvml;
    String driver = null;
    try {
      Nvml n = Nvml.load(settings.nvml());
      driver = n.driverVersion();
      nvml = Optional.of(n);
    } catch (UnsatisfiedLinkError | CudaException e) {
      LOG.warnf("NVML unavailable, GPU memory use will not be recorded: %s", e.getMessage());
      nvml = Optional.empty();
    }
    LOG.infof(
        "CUDA driver API %d, driver %s, %d GPU(s): %s (cuInit + enumeration %d ms)",
        cuda.apiVersion(), driver, devices.size(), devices, initMs);
    return new GpuRuntime(Optional.of(cuda), nvml, List.copyOf(devices), driver, initMs, null);
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
