package dev.warmstart.operator.event;

/** Reasons of the Kubernetes events the operator emits on its resources. */
public enum EventReason {
  CheckpointStarted,
  CheckpointSucceeded,
  CheckpointFailed,
  CheckpointRejected,
  AgentRetry,
  ArtifactDeleted,
  ArtifactRetained,
  PlaceholderCreated,
  RestoreStarted,
  RestoreSucceeded,
  RestoreFailed,
  RestoreRejected,
  StandbyReady,
  StandbyActivated,
  StandbyLost,
  StandbyCreated,
  StandbyReplaced,
  StandbyClaimed,
  ScheduleInvalid,
  CheckpointScheduled,
  ScheduledRunSkipped,
  CheckpointPruned,
  ReconcileError
}
