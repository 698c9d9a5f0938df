package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.criu.CriuFailure;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.CriuSettings;
import dev.warmstart.agent.criu.DumpSpec;
import dev.warmstart.agent.criu.RestoreSpec;
import dev.warmstart.api.agent.ErrorReason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our CRIU driven over its RPC ({@code criu swrk}): the messages come from the rpc.proto CRIU
 * installs, CRIU's answers carry the version and the errors, and the post-dump notification runs
 * agent work while the tree is frozen.
 */
class CriuRpcIT {
  private static final Duration T = Duration.ofMinutes(2);
  private static final String MARKER = "\n// ---- Warmstart: above this line";
  @TempDir Path dir;

  private static CriuRunner criu() {
    return new CriuRunner(new CriuSettings(TestEnv.criu(), Optional.empty()));
  }

  @Test
  void theVendoredRpcProtoIsCriusOwnPlusOnlyJavaNames() throws Exception {
    Path installed = TestEnv.criu().getParent().getParent().resolve("share/criu/rpc.proto");
    String ours =
        Files.readString(
            TestEnv.repo().resolve("node-agent-core/src/main/protobuf/rpc.proto"),
            StandardCharsets.UTF_8);
    assertThat(ours).contains(MARKER);
    String above = ours.substring(0, ours.indexOf(MARKER));
    assertThat(above).isEqualTo(Files.readString(installed, StandardCharsets.UTF_8));
    String below = ours.substring(ours.indexOf('\n', ours.indexOf(MARKER) + 1));
    assertThat(below.lines().filter(l -> !l.isBlank() && !l.startsWith("//")).toList())
        .as("below the marker: only the package and Java names")
        .allMatch(l -> l.startsWith("package ") || l.startsWith("option java_"));
  }

  @Test
  void theVersionIsCriusAnswer() throws Exception {
    Process p = new ProcessBuilder(TestEnv.criu().toString(), "--version").start();
    String cli = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    assertThat(cli).contains("Version: " + criu().version());
    assertThat(criu().version()).matches("4\\.[2-9][0-9.]*");
  }

  @Test
  void dumpingAMissingProcessFailsProcessNotFoundFromCriusErrno() {
    assertThatThrownBy(() -> criu().dump(new DumpSpec(999_999, dir, true, List.of(), 5), T))
        .isInstanceOfSatisfying(
            CriuFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.ProcessNotFound))
        .hasMessageStartingWith("criu dump failed: ")
        .hasMessageContaining("(errno 3)");
  }

  @Test
  void restoringWhileTheTreesPidIsTakenFailsPidInUseFromCriusErrno() throws Exception {
    try (Workload w = Workload.tree(4)) {
      w.state(Duration.ofSeconds(60));
      Path image = Files.createDirectory(dir.resolve("image"));
      Path work = Files.createDirectory(dir.resolve("work"));
      criu().dump(new DumpSpec(w.pid(), image, true, List.of(), 5), T);
      // The agent refuses this restore before CRIU runs (RestoreService); CRIU's own check is
      // what catches a PID taken in between.
      assertThatThrownBy(() -> criu().restore(RestoreSpec.onHost(image, work), T))
          .isInstanceOfSatisfying(
              CriuFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.PidInUse))
          .hasMessageStartingWith("criu restore failed: ")
          .hasMessageContaining("(errno 17)");
      assertThat(w.state(T).get("pid").asInt()).isEqualTo(w.pid());
    }
  }

  @Test
  void aFailingPostDumpStepFailsTheDumpAndTheTreeRunsOn() throws Exception {
    try (Workload w = Workload.tree(4)) {
      long last = w.state(Duration.ofSeconds(60)).get("last").asLong();
      AtomicInteger frozenPids = new AtomicInteger();
      IllegalStateException cause = new IllegalStateException("the frozen step failed");
      DumpSpec spec =
          new DumpSpec(
              w.pid(),
              dir,
              false,
              List.of(),
              5,
              Optional.of(
                  () -> {
                    // CRIU holds the tree frozen here: its state is 'T' or 't' (traced, stopped).
                    String stat = Files.readString(Path.of("/proc/" + w.pid() + "/stat"));
                    char state = stat.charAt(stat.lastIndexOf(')') + 2);
                    if (state == 't' || state == 'T') {
                      frozenPids.incrementAndGet();
                    }
                    throw cause;
                  }));
      assertThatThrownBy(() -> criu().dump(spec, T))
          .isInstanceOfSatisfying(
              CriuFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.CriuFailed))
          .hasMessageStartingWith("criu dump failed: ")
          .hasCause(cause);
      assertThat(frozenPids).as("the step ran while the tree was stopped").hasValue(1);
      Thread.sleep(300);
      assertThat(w.state(T).get("last").asLong()).as("the tree runs on").isGreaterThan(last);
    }
  }
}
