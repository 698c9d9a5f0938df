package dev.warmstart.agent.core;

import dev.warmstart.api.agent.ErrorReason;

/**
 * Why an agent operation failed: a typed reason, which the operator turns into a condition, and a
 * message for people. Every expected failure of a checkpoint, restore or activation (a GPU check, a
 * workload hook, the image store, CRIU) is one; anything else is a bug and ends as {@code
 * Internal}.
 */
public class OperationFailure extends Exception {
  private final ErrorReason reason;

  public OperationFailure(ErrorReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public OperationFailure(ErrorReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public ErrorReason reason() {
    return reason;
  }
}
