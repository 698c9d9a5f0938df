package dev.warmstart.api.v1alpha1;

/**
 * Condition types of the custom resources. Each has positive polarity: {@code True} is the good
 * state.
 */
public enum ConditionType {
  /** The spec was validated against the cluster (pod, container, agent, checkpoint exist). */
  Accepted,
  /** Work is under way on the node agent. */
  Progressing,
  /** GpuRestore only: the placeholder pod is scheduled and running. */
  PlaceholderReady,
  /**
   * The outcome is usable: the artifact is stored (GpuCheckpoint), the process runs (GpuRestore),
   * or the newest finished checkpoint succeeded (GpuCheckpointSchedule).
   */
  Ready,
  /**
   * GpuCheckpointSchedule only: the node's image store has room for another checkpoint of the
   * workload (free space at least the size of its last one).
   */
  StorageAvailable
}
