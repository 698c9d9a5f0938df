package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The case of issue #14 as a user met it: a server writing its stdout to a log file (opened by the
 * shell's {@code >}, not O_APPEND) is checkpointed with leaveRunning and keeps logging. Its restore
 * used to fail deep in CRIU ("File … has bad size 807 (expect 460)"); now it fails first, with
 * FileChanged naming the log. The same server logging with {@code >>} (O_APPEND) restores, and the
 * restored process appends after what was written since.
 */
class FileChangedIT {
  private static final Duration T = Duration.ofMinutes(2);
  private static final String LOOP = "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done";
  @TempDir Path dir;

  private Process server(Path log, boolean append) throws Exception {
    String redirect = append ? " >> " : " > ";
    return new ProcessBuilder(
            "setsid", "sh", "-c", "exec sh -c '" + LOOP + "'" + redirect + log + " 2>&1 </dev/null")
        .start();
  }

  @Test
  void aLogThatGrewAfterTheCheckpointFailsTheRestoreWithFileChanged() throws Exception {
    AgentComponents agent = TestEnv.components(dir.resolve("store"));
    Path log = dir.resolve("serve.log");
    Process p = server(log, false);
    try {
      awaitLines(log, 5);
      int pid = (int) p.pid();
      StoredImage image =
          agent
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofPid(pid), "serve", T)
                      .leaveRunning(true)
                      .build(),
                  Progress.NONE);
      // Stamped while frozen: the size CRIU recorded, not what the resumed process wrote since.
      long atCheckpoint =
          image.manifest().externalFiles().stream()
              .filter(s -> s.path().equals(log.toString()))
              .findFirst()
              .orElseThrow()
              .size();
      while (Files.size(log) == atCheckpoint) {
        Thread.sleep(50); // it keeps logging
      }
      killTree(image);

      assertThatThrownBy(
              () -> agent.restores().restore("serve", Optional.empty(), T, Progress.NONE))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> {
                assertThat(f.reason()).isEqualTo(ErrorReason.FileChanged);
                assertThat(f.getMessage())
                    .contains(log.toString())
                    .contains(atCheckpoint + " when checkpointed");
              });
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void anAppendOnlyLogThatGrewStillRestoresAndTheProcessAppendsAfterIt() throws Exception {
    AgentComponents agent = TestEnv.components(dir.resolve("store"));
    Path log = dir.resolve("serve.log");
    Process p = server(log, true);
    try {
      awaitLines(log, 5);
      int pid = (int) p.pid();
      StoredImage image =
          agent
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofPid(pid), "serve", T)
                      .leaveRunning(true)
                      .build(),
                  Progress.NONE);
      assertThat(image.manifest().externalFiles())
          .anySatisfy(
              s -> {
                assertThat(s.path()).isEqualTo(log.toString());
                assertThat(s.appendOnly()).isTrue();
              });
      awaitLines(log, Files.readAllLines(log).size() + 3);
      killTree(image);
      java.util.List<String> written = Files.readAllLines(log);
      int before = written.size();

      RestoreResult r = agent.restores().restore("serve", Optional.empty(), T, Progress.NONE);
      try {
        awaitLines(log, before + 3);
        java.util.List<String> now = Files.readAllLines(log);
        assertThat(now.subList(0, before))
            .as("nothing written since the checkpoint was lost or overwritten")
            .isEqualTo(written);
        int resumedAt = Integer.parseInt(now.get(before).split(" ")[1]);
        assertThat(resumedAt)
            .as("the restored process counts on from the checkpoint, appending at the end")
            .isLessThan(Integer.parseInt(written.get(before - 1).split(" ")[1]));
      } finally {
        Workload.kill(r.pid());
      }
    } finally {
      p.destroyForcibly();
    }
  }

  /** The original tree, gone with its PIDs free again (slow reaping here). */
  private static void killTree(StoredImage image) throws Exception {
    for (int p : image.manifest().source().processes()) {
      Workload.kill(p);
    }
    for (int p : image.manifest().source().processes()) {
      Workload.awaitPidFree(p); // the loop's last `sleep`, orphaned by the kill, holds the session
    }
  }

  private static void awaitLines(Path log, int n) throws Exception {
    for (int i = 0; i < 200; i++) {
      if (Files.exists(log) && Files.readAllLines(log).size() >= n) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("fewer than " + n + " lines in " + log);
  }
}
