package dev.warmstart.api.v1alpha1;

/** Coarse state of a GpuRestore, for printer columns; conditions carry the detail. */
public enum RestorePhase {
  Pending,
  Scheduling,
  Restoring,
  /** A Warm or Hot standby, restored into its pod and waiting for activation. */
  Standby,
  Running,
  Failed;

  public boolean isTerminal() {
    return this == Running || this == Failed;
  }
}
