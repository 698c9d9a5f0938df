package dev.warmstart.api.v1alpha1;

/** How a restore treats a target GPU that differs from the checkpoint's. */
public enum GpuRemapPolicy {
  /** Remap to the GPUs the placeholder pod was given, if they are of the same model (default). */
  Auto,
  /** Refuse unless the placeholder got the very GPUs (UUIDs) the checkpoint used. */
  SameGpu
}
