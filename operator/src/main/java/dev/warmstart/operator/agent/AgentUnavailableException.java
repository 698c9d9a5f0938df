package dev.warmstart.operator.agent;

import dev.warmstart.operator.status.ConditionReason;

/** No agent answered for a node: none runs there, or it could not be reached. Retried. */
public final class AgentUnavailableException extends Exception {
  private final ConditionReason reason;

  public AgentUnavailableException(ConditionReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public AgentUnavailableException(ConditionReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** NoAgentOnNode or AgentUnreachable. */
  public ConditionReason reason() {
    return reason;
  }
}
