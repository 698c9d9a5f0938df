package dev.warmstart.agent.criu;

import dev.warmstart.api.agent.ErrorReason;

/** CRIU (or a step around it) failed; the reason is what the operator turns into a condition. */
public class CriuFailure extends Exception {
  private final ErrorReason reason;

  public CriuFailure(ErrorReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public CriuFailure(ErrorReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public ErrorReason reason() {
    return reason;
  }
}
