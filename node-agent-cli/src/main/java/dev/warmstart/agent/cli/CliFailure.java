package dev.warmstart.agent.cli;

/**
 * An expected failure of a CLI command (a busy port, an agent that is not there, a workload that
 * died): printed as its reason and message, never as a stack trace, with its exit code.
 */
final class CliFailure extends Exception {
  private final String reason;
  private final int exitCode;

  CliFailure(String reason, int exitCode, String message) {
    super(message);
    this.reason = reason;
    this.exitCode = exitCode;
  }

  String reason() {
    return reason;
  }

  int exitCode() {
    return exitCode;
  }
}
