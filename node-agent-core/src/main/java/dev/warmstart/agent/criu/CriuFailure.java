package dev.warmstart.agent.criu;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.api.agent.ErrorReason;

/** CRIU itself failed; the reason is what the operator turns into a condition. */
public class CriuFailure extends OperationFailure {
  public CriuFailure(ErrorReason reason, String message) {
    super(reason, message);
  }

  public CriuFailure(ErrorReason reason, String message, Throwable cause) {
    super(reason, message, cause);
  }
}
