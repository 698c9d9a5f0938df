package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ProcessTarget;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint and restore of real process trees with real CRIU 4.2. */
class CheckpointRestoreIT {
  private static final Duration T = Duration.ofMinutes(3);
  @TempDir Path store;
  AgentComponents agent;

  @BeforeEach
  void setUp() throws Exception {
    agent = TestEnv.components(store);
  }

  private StoredImage checkpoint(Workload w, String name, boolean leaveRunning)
      throws OperationFailure {
    return agent
        .checkpoints()
        .checkpoint(
            CheckpointCommand.of(ProcessTarget.ofPid(w.pid()), name, T)
                .leaveRunning(leaveRunning)
                .labels(Map.of("test", "yes"))
                .build(),
            Progress.NONE);
  }

  private RestoreResult restore(String name) throws OperationFailure {
    return agent.restores().restore(name, Optional.empty(), T, Progress.NONE);
  }

  @Test
  void treeWithChildThreadsPipeAndListenerSurvivesRestoreTwice() throws Exception {
    try (Workload w = Workload.tree(64)) {
      JsonNode before = w.state(Duration.ofSeconds(60));
      StoredImage image = checkpoint(w, "tree", false);
      w.process.waitFor();
      Workload.awaitGone(w.pid());
      Workload.awaitGone(before.get("child").asInt());

      assertThat(image.manifest().source().processes())
          .contains(w.pid(), before.get("child").asInt());
      assertThat(image.digest()).startsWith("sha256:");

      for (int round = 1; round <= 2; round++) {
        RestoreResult r = restore("tree");
        try {
          JsonNode after = w.state(Duration.ofSeconds(30));
          assertThat(r.pid()).isEqualTo(w.pid());
          assertThat(after.get("pid").asInt()).isEqualTo(w.pid());
          assertThat(after.get("child").asInt()).isEqualTo(before.get("child").asInt());
          assertThat(after.get("threads").asInt()).isEqualTo(before.get("threads").asInt());
          assertThat(after.get("checksum").asText()).isEqualTo(before.get("expected").asText());
          Thread.sleep(300);
          assertThat(w.state(T).get("last").asLong())
              .as("child keeps feeding the parent through the restored pipe")
              .isGreaterThan(before.get("last").asLong());
        } finally {
          Workload.kill(r.pid());
          Workload.kill(before.get("child").asInt());
        }
      }
      assertThat(agent.store().open("tree").digest())
          .as("restores never consume the image")
          .isEqualTo(image.digest());
    }
  }

  @Test
  void pagesAreVerifiedWhileCriuRestoresAndATamperedOneNeverRuns() throws Exception {
    AgentComponents gated = TestEnv.componentsWithPlugin(store.resolve("gated"));
    try (Workload w = Workload.tree(64)) {
      JsonNode before = w.state(Duration.ofSeconds(60));
      CheckpointCommand stop =
          CheckpointCommand.of(ProcessTarget.ofPid(w.pid()), "gated", T).build();
      StoredImage image = gated.checkpoints().checkpoint(stop, Progress.NONE);
      w.process.waitFor();
      Workload.awaitGone(w.pid());
      Workload.awaitGone(before.get("child").asInt());

      RestoreResult r = gated.restores().restore("gated", Optional.empty(), T, Progress.NONE);
      try {
        assertThat(r.timings()).containsKeys("verify", "verifyPages", "verifyHeld");
        assertThat(w.state(Duration.ofSeconds(30)).get("checksum").asText())
            .isEqualTo(before.get("expected").asText());
      } finally {
        Workload.kill(r.pid());
        Workload.kill(before.get("child").asInt());
      }

      Path pages;
      try (Stream<Path> s = Files.list(image.dir())) {
        pages =
            s.filter(p -> p.getFileName().toString().startsWith("pages-"))
                .max((a, b) -> Long.compare(a.toFile().length(), b.toFile().length()))
                .orElseThrow();
      }
      try (RandomAccessFile f = new RandomAccessFile(pages.toFile(), "rw")) {
        f.seek(f.length() - 4096);
        int b = f.read();
        f.seek(f.length() - 4096);
        f.write(b ^ 0xff);
      }
      assertThatThrownBy(
              () -> gated.restores().restore("gated", Optional.empty(), T, Progress.NONE))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> assertThat(f.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed))
          .hasMessageContaining(pages.getFileName().toString())
          .hasMessageContaining("does not match its sha256");
      Workload.awaitGone(w.pid());
      assertThat(ProcessHandle.of(w.pid()))
          .as("the tree restored from a tampered image was killed before it ran")
          .isEmpty();
    }
  }

  @Test
  void imageIsPrivate() throws Exception {
    try (Workload w = Workload.tree(4)) {
      w.state(Duration.ofSeconds(60));
      StoredImage image = checkpoint(w, "private", true);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(image.dir())))
          .isEqualTo("rwx------");
      try (Stream<Path> files = Files.list(image.dir())) {
        assertThat(files.toList())
            .isNotEmpty()
            .allSatisfy(
                f ->
                    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
                        .isEqualTo("rw-------"));
      }
      assertThat(ProcessHandle.of(w.pid())).as("leaveRunning keeps the workload").isPresent();
    }
  }

  @Test
  void javaProcessWithOneGiBHeapKeepsItsData() throws Exception {
    try (Workload w = Workload.java1GiB()) {
      String[] before = w.line(Duration.ofSeconds(120)).split(" ");
      assertThat(before[0]).isEqualTo(before[1]);
      checkpoint(w, "java", false);
      w.process.waitFor();
      Workload.awaitGone(w.pid());
      RestoreResult r = restore("java");
      try {
        String[] after = w.line(Duration.ofSeconds(60)).split(" ");
        assertThat(after[0]).as("heap CRC after restore").isEqualTo(before[1]);
      } finally {
        Workload.kill(r.pid());
      }
    }
  }

  @Test
  void unknownPidIsRefused() {
    assertThatThrownBy(
            () ->
                agent
                    .checkpoints()
                    .checkpoint(
                        CheckpointCommand.of(ProcessTarget.ofPid(999_999), "x", T)
                            .leaveRunning(true)
                            .build(),
                        Progress.NONE))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.ProcessNotFound))
        .hasMessageContaining("no process with PID 999999");
  }

  @Test
  void tamperedOrTruncatedImageIsRefusedBeforeRestore() throws Exception {
    try (Workload w = Workload.tree(8)) {
      w.state(Duration.ofSeconds(60));
      StoredImage image = checkpoint(w, "victim", true);
      Path pages;
      try (Stream<Path> s = Files.list(image.dir())) {
        pages =
            s.filter(p -> p.getFileName().toString().startsWith("pages-"))
                .max((a, b) -> Long.compare(a.toFile().length(), b.toFile().length()))
                .orElseThrow();
      }
      try (RandomAccessFile f = new RandomAccessFile(pages.toFile(), "rw")) {
        f.seek(4096);
        int b = f.read();
        f.seek(4096);
        f.write(b ^ 0xff);
      }
      assertThatThrownBy(() -> restore("victim"))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> assertThat(f.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed))
          .hasMessageContaining(pages.getFileName().toString())
          .hasMessageContaining("does not match its sha256");

      try (RandomAccessFile f = new RandomAccessFile(pages.toFile(), "rw")) {
        f.setLength(f.length() / 2);
      }
      assertThatThrownBy(() -> restore("victim"))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> assertThat(f.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed))
          .hasMessageContaining("truncated");
      assertThat(ProcessHandle.of(w.pid())).as("a refused restore touches nothing").isPresent();
    }
  }

  @Test
  void restoreWhileTheOldPidIsTakenIsRefused() throws Exception {
    try (Workload w = Workload.tree(4)) {
      w.state(Duration.ofSeconds(60));
      checkpoint(w, "busy", true);
      assertThatThrownBy(() -> restore("busy"))
          .isInstanceOfSatisfying(
              OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.PidInUse))
          .hasMessageContaining("PID " + w.pid() + " of the checkpointed tree is in use");
      assertThat(w.state(T).get("pid").asInt()).isEqualTo(w.pid());
    }
  }

  @Test
  void criuKilledDuringDumpLeavesTheWorkloadRunningAndNoImage() throws Exception {
    try (Workload w = Workload.tree(768)) {
      long last = w.state(Duration.ofSeconds(90)).get("last").asLong();
      Thread killer =
          new Thread(
              () -> {
                for (int i = 0; i < 2000; i++) {
                  Optional<ProcessHandle> dump =
                      ProcessHandle.allProcesses()
                          .filter(
                              p ->
                                  p.info()
                                      .commandLine()
                                      .orElse("")
                                      .contains("dump --rpc -t " + w.pid()))
                          .findFirst();
                  if (dump.isPresent()) {
                    sleep(150);
                    dump.get().destroyForcibly();
                    return;
                  }
                  sleep(5);
                }
              });
      killer.start();
      assertThatThrownBy(() -> checkpoint(w, "killed", true))
          .isInstanceOfSatisfying(
              OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.CriuFailed))
          .hasMessageContaining("criu dump failed");
      killer.join();

      Thread.sleep(500);
      assertThat(w.state(T).get("last").asLong()).as("workload keeps running").isGreaterThan(last);
      assertThat(agent.store().list()).isEmpty();
      try (Stream<Path> staging = Files.list(store.resolve(".staging"))) {
        assertThat(staging).as("staging cleaned up").isEmpty();
      }
    }
  }

  @Test
  void fullDiskFailsCleanlyAndKeepsTheLastGoodImage(@TempDir Path small) throws Exception {
    RuncContainer.exec(
        java.util.List.of(
            "mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", small.toString()));
    try {
      AgentComponents tiny = TestEnv.components(small.resolve("store"));
      String goodDigest;
      try (Workload w = Workload.tree(1)) {
        w.state(Duration.ofSeconds(60));
        goodDigest =
            tiny.checkpoints()
                .checkpoint(
                    CheckpointCommand.of(ProcessTarget.ofPid(w.pid()), "app", T)
                        .leaveRunning(true)
                        .build(),
                    Progress.NONE)
                .digest();
      }
      try (Workload big = Workload.tree(96)) {
        long last = big.state(Duration.ofSeconds(60)).get("last").asLong();
        assertThatThrownBy(
                () ->
                    tiny.checkpoints()
                        .checkpoint(
                            CheckpointCommand.of(ProcessTarget.ofPid(big.pid()), "app", T)
                                .leaveRunning(true)
                                .replace(true)
                                .build(),
                            Progress.NONE))
            .isInstanceOfSatisfying(
                OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.NoSpace))
            .hasMessageContaining("No space left");
        Thread.sleep(300);
        assertThat(big.state(T).get("last").asLong())
            .as("workload keeps running")
            .isGreaterThan(last);
      }
      assertThat(tiny.store().open("app").digest())
          .as("last good image kept")
          .isEqualTo(goodDigest);
      try (Stream<Path> staging = Files.list(small.resolve("store/.staging"))) {
        assertThat(staging).isEmpty();
      }
    } finally {
      RuncContainer.exec(java.util.List.of("umount", "-l", small.toString()));
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
