package dev.warmstart.operator.agent;

/** The agent refused the request itself (HTTP 400 or 409): retrying it cannot help. */
public final class AgentRejectedException extends Exception {
  public AgentRejectedException(String message) {
    super(message);
  }
}
