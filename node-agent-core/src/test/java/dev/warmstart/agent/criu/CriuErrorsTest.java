package dev.warmstart.agent.criu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.agent.criu.rpc.Rpc.criu_req_type;
import dev.warmstart.agent.criu.rpc.Rpc.criu_resp;
import dev.warmstart.api.agent.ErrorReason;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CRIU's answer to a failed request, mapped to a reason a user can act on. */
class CriuErrorsTest {
  private static criu_resp failed(Integer errno, String errmsg) {
    criu_resp.Builder r = criu_resp.newBuilder().setType(criu_req_type.DUMP).setSuccess(false);
    if (errno != null) {
      r.setCrErrno(errno);
    }
    if (errmsg != null) {
      r.setCrErrmsg(errmsg);
    }
    return r.build();
  }

  @Test
  void criusErrorNumberDecides() {
    assertThat(CriuErrors.reason(failed(3, "Error (criu/seize.c:1): can't seize"), List.of()))
        .isEqualTo(ErrorReason.ProcessNotFound);
    assertThat(CriuErrors.reason(failed(17, "Error (criu/cr-restore.c:1): Can't fork"), List.of()))
        .isEqualTo(ErrorReason.PidInUse);
    assertThat(CriuErrors.reason(failed(95, "Error (x): ESRCH-like text"), List.of()))
        .as("another errno: CRIU failed")
        .isEqualTo(ErrorReason.CriuFailed);
  }

  @Test
  void aFullDiskIsNoSpaceFromTheFirstErrorOrTheLog() {
    assertThat(
            CriuErrors.reason(
                failed(null, "Error (criu/image.c:1): Can't write: No space left on device"),
                List.of()))
        .isEqualTo(ErrorReason.NoSpace);
    assertThat(
            CriuErrors.reason(
                failed(null, "Error (criu/x.c:1): first"),
                List.of("Error (criu/page-xfer.c:2): write: No space left on device")))
        .isEqualTo(ErrorReason.NoSpace);
  }

  @Test
  void aTakenThreadIdReachesOnlyTheLogAndIsPidInUse() {
    criu_resp resp = failed(null, "Error (criu/cr-restore.c:1): Restoring FAILED.");
    assertThat(
            CriuErrors.reason(
                resp, List.of("Error (criu/pie/restorer.c:2201): Unable to create a thread: -17")))
        .isEqualTo(ErrorReason.PidInUse);
    assertThat(
            CriuErrors.reason(
                resp, List.of("Error (criu/pie/restorer.c:2201): Unable to create a thread: -12")))
        .isEqualTo(ErrorReason.CriuFailed);
  }

  @Test
  void theDetailQuotesCriusFirstErrorThenTheLogsOthersOnce() {
    criu_resp resp = failed(3, "Error (criu/seize.c:1): can't seize 7");
    assertThat(
            CriuErrors.detail(
                resp,
                List.of("Error (criu/seize.c:1): can't seize 7", "Error (warmstart): plugin said")))
        .isEqualTo(
            "Error (criu/seize.c:1): can't seize 7; Error (warmstart): plugin said (errno 3)");
    assertThat(CriuErrors.detail(failed(null, null), List.of())).isEqualTo("no error message");
  }

  @Test
  void aFirstErrorCriuCarriesOnAfterIsNotTheDetail() {
    criu_resp resp =
        failed(
            null,
            "Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not"
                + " permitted\n");
    assertThat(CriuErrors.detail(resp, List.of("Error (criu/bfd.c:131): bfd: flushing: x")))
        .isEqualTo("Error (criu/bfd.c:131): bfd: flushing: x");
  }
}
