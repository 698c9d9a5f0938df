package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `warmstart demo` through the launcher, as README tells a new user to run it (real CRIU). */
class DemoIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PORT = 18300 + (int) (ProcessHandle.current().pid() % 300);
  @TempDir Path store;

  record Run(int code, String out, String err, long millis) {}

  private Run demo(String... args) throws Exception {
    TestEnv.criu();
    List<String> cmd = new ArrayList<>();
    cmd.add(TestEnv.repo().resolve("warmstart").toString());
    cmd.addAll(List.of("--store", store.toString(), "demo", "--port", Integer.toString(PORT)));
    cmd.addAll(List.of(args));
    long t = System.nanoTime();
    Process p = new ProcessBuilder(cmd).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    return new Run(p.exitValue(), out, err, (System.nanoTime() - t) / 1_000_000);
  }

  @Test
  void theDemoProvesThatStateBuiltAfterStartSurvived() throws Exception {
    Run human = demo("--size-mib", "64");
    assertThat(human.code()).as("%s%n%s", human.out(), human.err()).isZero();
    assertThat(human.out())
        .contains("workload cold start", "restore to first answer", "demo OK")
        .containsPattern("counter 3 recorded -> 3 restored -> 4 after one more request")
        .contains("checksum of 64 MiB changed after start: intact");

    Run json = demo("--size-mib", "16", "--json");
    assertThat(json.code()).as(json.err()).isZero();
    JsonNode r = JSON.readTree(json.out());
    assertThat(r.get("counterRecorded").asLong())
        .as("checkpointed after requests")
        .isGreaterThan(1);
    assertThat(r.get("counterRestored").asLong()).isEqualTo(r.get("counterRecorded").asLong());
    assertThat(r.get("counterNext").asLong()).isEqualTo(r.get("counterRecorded").asLong() + 1);
    assertThat(r.get("checksumRestored").asText()).isEqualTo(r.get("checksumRecorded").asText());
    assertThat(r.get("coldStartMs").asLong()).isPositive();
    assertThat(r.get("restoreToFirstAnswerMs").asLong()).isPositive();
  }

  @Test
  void aColdRestartOfTheSampleWouldFailBothChecks() throws Exception {
    Path script = TestEnv.repo().resolve("samples/cpu-workload/stateful_server.py");
    List<JsonNode> starts = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Process p =
          new ProcessBuilder(
                  "python3", script.toString(), "--port", Integer.toString(PORT), "--size-mib", "4")
              .start();
      try {
        starts.add(firstState());
      } finally {
        p.destroyForcibly().waitFor();
      }
    }
    assertThat(starts.get(0).get("counter").asLong()).isZero();
    assertThat(starts.get(1).get("counter").asLong()).isZero();
    assertThat(starts.get(1).get("checksum").asText())
        .as("random state: a cold start never reproduces the recorded checksum")
        .isNotEqualTo(starts.get(0).get("checksum").asText());
  }

  private static JsonNode firstState() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/state"))
            .timeout(Duration.ofSeconds(20))
            .build();
    for (int i = 0; i < 600; i++) {
      try {
        return JSON.readTree(http.send(req, HttpResponse.BodyHandlers.ofString()).body());
      } catch (java.io.IOException e) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("sample did not answer");
  }

  @Test
  void aWorkloadThatDiesAtStartFailsFastWithItsLogKept(@TempDir Path samples) throws Exception {
    Path script = samples.resolve("cpu-workload/stateful_server.py");
    Files.createDirectories(script.getParent());
    Files.writeString(
        script,
        "import sys\nprint('cannot allocate the buffer: out of memory', flush=True)\n"
            + "sys.exit(3)\n");
    Run r = demo("--samples", samples.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.millis()).as("no 90 s wait").isLessThan(30_000);
    assertThat(r.err())
        .contains("WorkloadFailed", "exited with code 3", "cannot allocate the buffer")
        .doesNotContain("Internal", "IOException");
    Matcher m = Pattern.compile("kept at (\\S+\\.log)").matcher(r.err());
    assertThat(m.find()).as(r.err()).isTrue();
    Path log = Path.of(m.group(1));
    assertThat(log).exists();
    assertThat(Files.readString(log)).contains("out of memory");
    Files.delete(log);
  }
}
