package dev.warmstart.agent.criu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the agent reads out of CRIU's log: a reason a user can act on (G1, G5). */
class CriuLogTest {
  @TempDir Path dir;

  @Test
  void theFailureQuotesTheCauseNotCriusSummaryLines() throws Exception {
    Path log = dir.resolve("dump.log");
    Files.writeString(
        log,
        "(00.001) Error (criu/cr-dump.c:1): Dumping FAILED.\n"
            + "(00.002) Error (criu/sk-tcp.c:10): Can't lock connection: Operation not permitted\n"
            + "(00.003) Error (criu/util.c:660): exited, status=1\n"
            + "(00.004) Error (criu/cr-dump.c:2): Dump interrupted by signal 15 (Terminated)\n");
    assertThat(CriuLog.errors(log, 3))
        .containsExactly(
            "Error (criu/sk-tcp.c:10): Can't lock connection: Operation not permitted");
  }

  @Test
  void thePluginsDriverErrorComesFirst() throws Exception {
    Path log = dir.resolve("dump.log");
    Files.writeString(
        log,
        "(00.001) Error (criu/files.c:1): unrelated first error\n"
            + "(00.002) Error (warmstart): warmstart-cuda: lock of pid 7 failed: error 600\n");
    assertThat(CriuLog.errors(log, 3).get(0)).contains("lock of pid 7 failed");
  }

  @Test
  void aDriverCallIsInProgressBetweenItsBeginAndEndLines() throws Exception {
    Path log = dir.resolve("dump.log");
    Files.writeString(log, "(00.1) warmstart-cuda: driver call begins: lock of pid 7\n");
    assertThat(CriuLog.driverCallInProgress(log)).isTrue();
    Files.writeString(
        log,
        "(00.2) warmstart-cuda: driver call ends: lock of pid 7 (0)\n"
            + "(00.3) warmstart-cuda: driver call begins: checkpoint of pid 7\n"
            + "(00.3) warmstart-cuda: driver call begins: checkpoint of pid 8\n"
            + "(00.9) warmstart-cuda: driver call ends: checkpoint of pid 8 (0)\n",
        java.nio.file.StandardOpenOption.APPEND);
    assertThat(CriuLog.driverCallInProgress(log)).isTrue();
    Files.writeString(
        log,
        "(01.0) warmstart-cuda: driver call ends: checkpoint of pid 7 (0)\n",
        java.nio.file.StandardOpenOption.APPEND);
    assertThat(CriuLog.driverCallInProgress(log)).isFalse();
  }
}
