package dev.warmstart.api.v1alpha1;

/** Coarse state of a GpuCheckpoint, for printer columns; conditions carry the detail. */
public enum CheckpointPhase {
  Pending,
  Checkpointing,
  Succeeded,
  Failed;

  public boolean isTerminal() {
    return this == Succeeded || this == Failed;
  }
}
