package dev.warmstart.operator.status;

import dev.warmstart.api.agent.ErrorReason;

/** Every reason a Warmstart condition can carry (CamelCase, as in metav1.Condition). */
public enum ConditionReason {
  // Accepted
  Validated,
  PodNotFound,
  PodNotRunning,
  ContainerNotFound,
  UnsupportedWorkload,
  NoAgentOnNode,
  CheckpointNotFound,
  CheckpointNotReady,
  CheckpointFailed,
  NodeMismatch,
  /** The pod that mounts a checkpoint's PersistentVolumeClaim is not running yet. */
  StoragePending,
  // Progressing / Ready
  Dispatched,
  InProgress,
  AgentUnreachable,
  OperationLost,
  Timeout,
  Succeeded,
  ImageIntegrityFailed,
  IncompatibleGpu,
  HookFailed,
  FileChanged,
  RestoreFailed,
  // Standby
  StandbyReady,
  Activating,
  StandbyLost,
  NoStandbyReady,
  PoolNotFound,
  // GpuStandbyPool Ready
  Filled,
  Filling,
  // GpuCheckpointSchedule Accepted / Ready / StorageAvailable
  InvalidSchedule,
  UnknownTimeZone,
  NoCheckpointYet,
  NodeStoreFull,
  StoreHasRoom,
  StoreUsageUnknown,
  NoSizeEstimate,
  // PlaceholderReady
  PlaceholderPending,
  PlaceholderRunning,
  PlaceholderUnschedulable,
  PlaceholderFailed,
  /** An unexpected error in the operator itself; retried a bounded number of times. */
  ReconcileError;

  /** The condition reason for an agent's failure reason, per operation kind. */
  public static ConditionReason ofAgentError(ErrorReason error, boolean restore) {
    return switch (error) {
      case ImageIntegrityFailed -> ImageIntegrityFailed;
      case IncompatibleGpu -> IncompatibleGpu;
      case HookFailed -> HookFailed;
      case FileChanged -> FileChanged;
      case UnsupportedWorkload -> UnsupportedWorkload;
      case ProcessNotFound, ContainerNotFound -> restore ? RestoreFailed : ContainerNotFound;
      case ImageNotFound -> restore ? CheckpointNotFound : CheckpointFailed;
      case Timeout -> Timeout;
      case NoSpace -> restore ? RestoreFailed : NodeStoreFull;
      case Interrupted -> OperationLost;
      default -> restore ? RestoreFailed : CheckpointFailed;
    };
  }
}
