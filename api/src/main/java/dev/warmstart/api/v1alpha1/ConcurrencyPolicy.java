package dev.warmstart.api.v1alpha1;

/**
 * What a GpuCheckpointSchedule does when a run is due while its previous checkpoint still runs.
 * Only Forbid exists: two captures of one container cannot overlap (CRIU freezes the process tree
 * for the first) and an agent operation cannot be cancelled, so CronJob's Allow and Replace have no
 * meaning here. The field keeps CronJob's name so a later policy can be added.
 */
public enum ConcurrencyPolicy {
  /** Skip the run (recorded as lastSkippedTime and an event); the next one is tried as usual. */
  Forbid
}
