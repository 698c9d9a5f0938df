package dev.warmstart.api.agent;

/**
 * Why an agent operation failed, as one CamelCase word the operator maps to a condition reason.
 * Names follow Kubernetes condition reasons so they read the same in both places.
 */
public enum ErrorReason {
  InvalidRequest,
  ProcessNotFound,
  ContainerNotFound,
  ImageNotFound,
  ImageIntegrityFailed,
  ImageExists,
  /**
   * A file the checkpointed process had open outside the checkpoint (on a volume, or in its image)
   * is missing or changed at the restore target.
   */
  FileChanged,
  PidInUse,
  NoSpace,
  HookFailed,
  IncompatibleGpu,
  UnsupportedWorkload,
  CriuFailed,
  GpuCheckpointFailed,
  GpuRestoreFailed,
  /** The GPU memory shim in the workload did not move its memory out or back (gpu-shim/). */
  GpuMemoryShimFailed,
  /** The GPU has too little free memory for the workload's memory to come back. */
  GpuOutOfMemory,
  Timeout,
  Interrupted,
  Internal
}
