package dev.warmstart.agent.criu;

import dev.warmstart.agent.criu.rpc.Rpc.criu_resp;
import dev.warmstart.api.agent.ErrorReason;
import java.util.ArrayList;
import java.util.List;

/** Turns CRIU's answer to a failed request into a reason a user can act on. */
final class CriuErrors {
  /** CRIU's cr_errno values (criu/include/cr-errno.h). */
  static final int ESRCH = 3;

  static final int EEXIST = 17;

  private static final int MAX_DETAIL = 3;

  private static final String ENOSPC_TEXT = "No space left on device";

  /** What the restorer (CRIU's code inside the restored task) logs when a thread's TID is taken. */
  private static final String THREAD_TID_TAKEN = "Unable to create a thread: -17";

  private CriuErrors() {}

  /**
   * The reason for a failed response: CRIU's error number first (ESRCH: no such process to dump;
   * EEXIST: a PID of the image is taken), then the error its first error line reports. Two failures
   * never reach the response, only the log: an error of the restorer (it runs inside the restored
   * task, with its own log) and a full disk noticed after a first, other error.
   */
  static ErrorReason reason(criu_resp resp, List<String> logErrors) {
    if (resp.hasCrErrno()) {
      switch (resp.getCrErrno()) {
        case ESRCH:
          return ErrorReason.ProcessNotFound;
        case EEXIST:
          return ErrorReason.PidInUse;
        default:
          break;
      }
    }
    if (resp.getCrErrmsg().contains(ENOSPC_TEXT)) {
      return ErrorReason.NoSpace;
    }
    if (logErrors.stream().anyMatch(l -> l.contains(THREAD_TID_TAKEN))) {
      return ErrorReason.PidInUse;
    }
    if (logErrors.stream().anyMatch(l -> l.contains(ENOSPC_TEXT))) {
      return ErrorReason.NoSpace;
    }
    return ErrorReason.CriuFailed;
  }

  /**
   * The failure's text: CRIU's first error (unless it is one CRIU carries on after), then the log's
   * other errors, plugin errors first, at most {@code MAX_DETAIL} lines.
   */
  static String detail(criu_resp resp, List<String> logErrors) {
    String first = resp.getCrErrmsg().strip();
    List<String> lines = new ArrayList<>();
    if (!first.isEmpty() && !CriuLog.isNoise(first)) {
      lines.add(first);
    }
    logErrors.stream()
        .map(String::strip)
        .filter(l -> !lines.contains(l))
        .limit(MAX_DETAIL - lines.size())
        .forEach(lines::add);
    String text = lines.isEmpty() ? "no error message" : String.join("; ", lines);
    return resp.hasCrErrno() ? text + " (errno " + resp.getCrErrno() + ")" : text;
  }
}
