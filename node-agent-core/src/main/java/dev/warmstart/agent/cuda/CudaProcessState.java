package dev.warmstart.agent.cuda;

/** CUprocessState: where a process stands in the driver's checkpoint state machine. */
public enum CudaProcessState {
  RUNNING,
  LOCKED,
  CHECKPOINTED,
  FAILED;

  static CudaProcessState of(int value) {
    return value >= 0 && value < values().length ? values()[value] : FAILED;
  }
}
