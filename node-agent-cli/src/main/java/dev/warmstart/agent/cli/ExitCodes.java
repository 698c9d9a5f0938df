package dev.warmstart.agent.cli;

import dev.warmstart.api.agent.ErrorReason;

/** Exit codes of the warmstart CLI; scripts can tell a bad image from a busy PID. */
final class ExitCodes {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int NOT_FOUND = 3;
  static final int INTEGRITY = 4;
  static final int PID_IN_USE = 5;
  static final int TIMEOUT = 6;
  static final int CONFLICT = 7;

  private ExitCodes() {}

  static int of(ErrorReason reason) {
    return switch (reason) {
      case ProcessNotFound, ContainerNotFound, ImageNotFound -> NOT_FOUND;
      case ImageIntegrityFailed -> INTEGRITY;
      case PidInUse -> PID_IN_USE;
      case Timeout -> TIMEOUT;
      case ImageExists -> CONFLICT;
      case InvalidRequest -> USAGE;
      default -> FAILED;
    };
  }
}
