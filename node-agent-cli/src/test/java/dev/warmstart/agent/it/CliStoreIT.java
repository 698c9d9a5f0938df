package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.ScratchDir;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store as a user meets it through the `warmstart` launcher (a separate JVM per command, real
 * CRIU): names are not overwritten by accident, no checkpoint or restore leaves files behind, not
 * even one that was killed, and a prepared CPU-only restore says what it is.
 */
class CliStoreIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path store;

  record Run(int code, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  private Process start(List<String> prefix, String... args) throws Exception {
    TestEnv.criu(); // root and the project-local CRIU, as the launcher needs
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(TestEnv.repo().resolve("warmstart").toString());
    cmd.addAll(List.of("--store", store.toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).start();
  }

  private Run run(String... args) throws Exception {
    Process p = start(List.of(), args);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(3, TimeUnit.MINUTES)).isTrue();
    return new Run(p.exitValue(), out, err);
  }

  private List<String> leftovers() throws Exception {
    List<String> found = new ArrayList<>();
    for (String dir : List.of(".staging", ".work", ".trash")) {
      try (Stream<Path> s = Files.list(store.resolve(dir))) {
        s.forEach(p -> found.add(dir + "/" + p.getFileName()));
      }
    }
    return found;
  }

  @Test
  void anExistingNameIsRefusedUnlessReplacedAndTheOldImageStaysUntilThen() throws Exception {
    try (Workload w = Workload.tree(8)) {
      w.state(Duration.ofSeconds(60));
      String pid = Integer.toString(w.pid());
      Run first = run("--json", "checkpoint", "--pid", pid, "--name", "app");
      assertThat(first.code()).as(first.err()).isZero();
      String digest = first.json().get("digest").asText();

      Run again = run("checkpoint", "--pid", pid, "--name", "app");
      assertThat(again.code()).as(again.err()).isEqualTo(7);
      assertThat(again.err()).contains("ImageExists", "'app' already exists", "--replace");
      assertThat(run("--json", "inspect", "app").json().get("digest").asText())
          .as("the refused checkpoint left the image as it was")
          .isEqualTo(digest);

      Run replaced = run("--json", "checkpoint", "--pid", pid, "--name", "app", "--replace");
      assertThat(replaced.code()).as(replaced.err()).isZero();
      String newDigest = replaced.json().get("digest").asText();
      assertThat(newDigest).isNotEqualTo(digest);
      assertThat(run("--json", "inspect", "app").json().get("digest").asText())
          .isEqualTo(newDigest);
      assertThat(ProcessHandle.of(w.pid())).as("still running").isPresent();
    }
    assertThat(leftovers()).as("no staging copy, no old image left aside").isEmpty();
  }

  @Test
  void restoresLeaveNoWorkFilesAndAPreparedCpuImageSaysItRuns() throws Exception {
    try (Workload w = Workload.tree(8)) {
      int child = w.state(Duration.ofSeconds(60)).get("child").asInt();
      Run ck = run("checkpoint", "--pid", Integer.toString(w.pid()), "--name", "cpu", "--stop");
      assertThat(ck.code()).as(ck.err()).isZero();
      w.process.waitFor();
      Workload.awaitGone(w.pid());
      Workload.awaitGone(child); // a dumped child's PID can stay taken a moment longer

      Run prepared = run("restore", "cpu", "--stage", "processes");
      assertThat(prepared.code()).as(prepared.err()).isZero();
      assertThat(prepared.out())
          .contains("CPU-only image", "nothing to activate")
          .doesNotContain("GPU state checkpointed");
      assertThat(w.state(Duration.ofSeconds(30)).get("pid").asInt()).isEqualTo(w.pid());

      Run busy = run("restore", "cpu");
      assertThat(busy.code()).as("the PID is taken by the running restore").isEqualTo(5);
      Workload.kill(w.pid());
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.resolve(".work"))))
        .isEqualTo("rwx------");
    assertThat(leftovers()).as("no restore-* work directory, failed or not").isEmpty();
  }

  @Test
  void aKilledCheckpointIsSweptNextTimeWhileLiveWorkIsKept() throws Exception {
    ImageStore ours = new ImageStore(store);
    try (Workload w = Workload.tree(512);
        ScratchDir live = ours.stage("live")) {
      w.state(Duration.ofSeconds(90));
      // Its own session, so that the JVM and its criu child die together, as on Ctrl-C.
      Process ck =
          start(
              List.of("setsid"), "checkpoint", "--pid", Integer.toString(w.pid()), "--name", "big");
      Path staged = null;
      for (int i = 0; i < 6000 && staged == null; i++) {
        staged = stagingWithPages(store.resolve(".staging"), "big.", 16L << 20);
        Thread.sleep(5);
      }
      assertThat(staged).as("the checkpoint is writing pages").isNotNull();
      new ProcessBuilder("kill", "-KILL", "--", "-" + ck.pid()).inheritIO().start().waitFor();
      ck.waitFor(30, TimeUnit.SECONDS);
      for (int i = 0; i < 500 && criuRunsFor(w.pid()); i++) {
        Thread.sleep(20);
      }
      assertThat(staged).as("what the killed checkpoint left").exists();

      // Any next command (here another JVM, as the agent's start would) sweeps the dead one's
      // copy and keeps the copy this JVM still works in.
      Run list = run("--json", "list");
      assertThat(list.code()).as(list.err()).isZero();
      assertThat(staged).doesNotExist();
      assertThat(live.dir()).as("another process's work in progress").exists();
      assertThat(list.json().at("/store/images").asInt()).isZero();
    }
    assertThat(leftovers()).isEmpty();
  }

  /** A staging directory of that prefix whose page files hold at least {@code bytes}. */
  private static Path stagingWithPages(Path staging, String prefix, long bytes) throws Exception {
    try (Stream<Path> s = Files.list(staging)) {
      for (Path dir :
          s.filter(p -> p.getFileName().toString().startsWith(prefix))
              .filter(Files::isDirectory)
              .toList()) {
        long pages = 0;
        try (Stream<Path> files = Files.list(dir)) {
          for (Path f : files.toList()) {
            if (f.getFileName().toString().startsWith("pages-")) {
              pages += Files.size(f);
            }
          }
        } catch (java.io.IOException e) {
          continue; // changing under us
        }
        if (pages >= bytes) {
          return dir;
        }
      }
    }
    return null;
  }

  /** A criu swrk dumping {@code pid}: its process title is "dump --rpc -t PID". */
  private static boolean criuRunsFor(int pid) {
    java.util.regex.Pattern title =
        java.util.regex.Pattern.compile("dump --rpc -t " + pid + "(\\D|$)");
    return ProcessHandle.allProcesses()
        .anyMatch(p -> title.matcher(p.info().commandLine().orElse("")).find());
  }
}
