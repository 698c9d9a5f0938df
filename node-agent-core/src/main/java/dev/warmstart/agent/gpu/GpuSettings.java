package dev.warmstart.agent.gpu;

import java.util.List;
import java.util.Optional;

/**
 * How the agent uses the node's GPUs.
 *
 * @param enabled look for GPUs at all (off: CPU-only, as on a node without a driver)
 * @param libcuda libcuda to load (default: the loader's libcuda.so.1)
 * @param nvml libnvidia-ml to load (default: the loader's libnvidia-ml.so.1)
 * @param warmPool hold a primary context on each selected GPU for the agent's lifetime
 * @param devices GPUs for the warm pool, by UUID or ordinal; empty means all
 */
public record GpuSettings(
    boolean enabled,
    Optional<String> libcuda,
    Optional<String> nvml,
    boolean warmPool,
    List<String> devices) {

  public static GpuSettings defaults() {
    return new GpuSettings(true, Optional.empty(), Optional.empty(), true, List.of());
  }

  public static GpuSettings disabled() {
    return new GpuSettings(false, Optional.empty(), Optional.empty(), false, List.of());
  }

  /** Whether the pool should hold {@code uuid} (ordinal {@code ordinal}). */
  boolean selects(String uuid, int ordinal) {
    return devices.isEmpty()
        || devices.contains(uuid)
        || devices.contains(Integer.toString(ordinal));
  }
}
