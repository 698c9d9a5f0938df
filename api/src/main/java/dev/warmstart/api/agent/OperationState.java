package dev.warmstart.api.agent;

/** Life cycle of an agent operation. */
public enum OperationState {
  ACCEPTED,
  RUNNING,
  SUCCEEDED,
  FAILED;

  public boolean isTerminal() {
    return this == SUCCEEDED || this == FAILED;
  }
}
