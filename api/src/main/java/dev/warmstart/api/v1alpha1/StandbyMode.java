package dev.warmstart.api.v1alpha1;

/** How far a GpuRestore goes before it waits to be activated. */
public enum StandbyMode {
  /** Restore and run (default). */
  None,
  /**
   * Stop after the CRIU restore: the process exists in its pod with its CUDA state checkpointed and
   * holds no GPU memory; activation copies the GPU memory back and unlocks (seconds).
   */
  Warm,
  /**
   * Also copy the GPU memory back, keeping the process locked: it holds its GPU memory; activation
   * is only the unlock (milliseconds).
   */
  Hot
}
