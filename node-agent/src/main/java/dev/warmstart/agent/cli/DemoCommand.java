package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ProcessTarget;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts a workload that holds state only in memory, changes that state through requests, records
 * it, checkpoints, kills and restores the workload, and proves the state created after start
 * survived: the restored workload reports the recorded buffer checksum and mutation counter, and
 * counts on from there. A cold restart fails both checks (its buffer comes from os.urandom, its
 * counter starts at 0).
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Checkpoint, kill and restore a stateful sample workload.")
final class DemoCommand extends Step {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MUTATIONS = 3;

  @Option(
      names = "--size-mib",
      defaultValue = "512",
      description = "Workload buffer size, 1-65536 (default ${DEFAULT-VALUE}).")
  int sizeMib;

  @Option(
      names = "--port",
      defaultValue = "18080",
      description = "Free port on 127.0.0.1 for the workload (default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--samples",
      description = "samples/ folder of the repository (env WARMSTART_SAMPLES).")
  Path samples;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    if (sizeMib < 1 || sizeMib > 65536) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--size-mib must be 1 to 65536, was " + sizeMib);
    }
    if (port < 1 || port > 65535) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--port must be 1 to 65535, was " + port);
    }
    Path script = samplesDir().resolve("cpu-workload/stateful_server.py");
    if (!Files.isRegularFile(script)) {
      throw new CliFailure(
          "InvalidRequest",
          ExitCodes.USAGE,
          "sample workload not found at " + script + " (use --samples)");
    }
    requireFreePort();
    String name = "demo-" + ProcessHandle.current().pid();
    Path log = Files.createTempFile("warmstart-demo-", ".log");
    Map<String, Long> table = new LinkedHashMap<>();
    boolean ok = false;

    long t = System.nanoTime();
    out.progress("starting the sample workload (" + sizeMib + " MiB of random state)");
    Process workload =
        new ProcessBuilder(
                "setsid",
                "python3",
                script.toString(),
                "--port",
                Integer.toString(port),
                "--size-mib",
                Integer.toString(sizeMib))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    Integer restoredPid = null;
    try {
      awaitState(workload::isAlive, "the sample workload", workload, log);
      long coldStart = ms(t);
      table.put("workload cold start", coldStart);

      JsonNode before = null;
      for (int i = 0; i < MUTATIONS; i++) {
        before = call("POST", "/mutate", log);
      }
      long counter = before.get("counter").asLong();
      String checksum = before.get("checksum").asText();
      out.progress(
          "state changed after start: counter="
              + counter
              + " checksum="
              + checksum.substring(0, 16)
              + "... (recorded before the checkpoint)");

      StoredImage image =
          c.checkpoints()
              .checkpoint(
                  new CheckpointCommand(
                      ProcessTarget.ofPid((int) workload.pid()),
                      name,
                      false,
                      Duration.ofMinutes(5),
                      Map.of("sample", "demo")),
                  out::progress);
      image.manifest().timings().forEach((k, v) -> table.put("checkpoint " + k, v));
      t = System.nanoTime();
      workload.waitFor();
      // The kernel may hold a dumped PID briefly; restoring onto it needs it free.
      while (ProcessHandle.of(workload.pid()).isPresent()) {
        Thread.sleep(20);
      }
      table.put("workload gone", ms(t));
      out.progress(
          "workload killed (PID "
              + workload.pid()
              + " is free); image "
              + ImageViews.mib(image.manifest().sizeBytes()));

      t = System.nanoTime();
      RestoreResult restored =
          c.restores().restore(name, Optional.empty(), Duration.ofMinutes(5), out::progress);
      int pid = restored.pid();
      restoredPid = pid;
      restored.timings().forEach((k, v) -> table.put("restore " + k, v));
      JsonNode after =
          awaitState(
              () -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
              "the restored workload",
              null,
              log);
      long restoreToAnswer = ms(t);
      table.put("restore to first answer", restoreToAnswer);
      long next = call("POST", "/mutate", log).get("counter").asLong();

      boolean sameChecksum = after.get("checksum").asText().equals(checksum);
      boolean sameCounter = after.get("counter").asLong() == counter && next == counter + 1;
      ok = sameChecksum && sameCounter;
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("ok", ok);
      result.put("counterRecorded", counter);
      result.put("counterRestored", after.get("counter").asLong());
      result.put("counterNext", next);
      result.put("checksumRecorded", checksum);
      result.put("checksumRestored", after.get("checksum").asText());
      result.put("pidBefore", workload.pid());
      result.put("pidAfter", pid);
      result.put("imageBytes", image.manifest().sizeBytes());
      result.put("coldStartMs", coldStart);
      result.put("restoreToFirstAnswerMs", restoreToAnswer);
      result.put("timingsMs", table);
      StringBuilder human = new StringBuilder();
      human.append(String.format("%n%-32s %8s%n", "step", "ms"));
      table.forEach((k, v) -> human.append(String.format("%-32s %8d%n", k, v)));
      human.append(
          String.format(
              "%ncounter %d recorded -> %d restored -> %d after one more request (%s)%n"
                  + "checksum of %d MiB changed after start: %s%nPID %d -> %d%n",
              counter,
              after.get("counter").asLong(),
              next,
              sameCounter ? "continued" : "LOST",
              sizeMib,
              sameChecksum ? "intact" : "CHANGED",
              workload.pid(),
              pid));
      human.append(speedNote(coldStart, restoreToAnswer, image.manifest().sizeBytes()));
      human.append(
          ok
              ? "demo OK: the restored process kept the state it built after start"
              : "demo FAILED: state was lost; workload log kept at " + log);
      out.result(result, human.toString());
      return ok ? ExitCodes.OK : ExitCodes.FAILED;
    } finally {
      workload.destroyForcibly();
      if (restoredPid != null) {
        ProcessHandle.of(restoredPid)
            .ifPresent(
                h -> {
                  h.descendants().forEach(ProcessHandle::destroyForcibly);
                  h.destroyForcibly();
                });
      }
      c.store().delete(name);
      if (ok) {
        Files.deleteIfExists(log);
      } else {
        out.note("the workload's log is kept at " + log);
      }
    }
  }

  /**
   * Why a restore can lose to a cold start on this sample: its start only fills memory, while a
   * restore reads every page back from the image (digests first). Real workloads spend their cold
   * start loading and warming up, which a restore skips.
   */
  static String speedNote(long coldStartMs, long restoreMs, long imageBytes) {
    if (restoreMs < coldStartMs) {
      return String.format(
          "restore answered %.1fx sooner than a cold start (%d vs %d ms)%n",
          (double) coldStartMs / Math.max(1, restoreMs), restoreMs, coldStartMs);
    }
    return String.format(
        "restore (%d ms) was not faster than this sample's cold start (%d ms): its start only"
            + " fills memory with random bytes, while a restore first checks the sha256 of all"
            + " %s of the image and then has CRIU read every page back; a real workload's cold"
            + " start (loading and warming a model) is what a restore skips%n",
        restoreMs, coldStartMs, ImageViews.mib(imageBytes));
  }

  /** Refuses a port another process holds: it might answer our requests instead. */
  private void requireFreePort() throws CliFailure {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new CliFailure(
          "PortInUse",
          ExitCodes.CONFLICT,
          "port "
              + port
              + " on 127.0.0.1 is in use by another process ("
              + e.getMessage()
              + "): choose a free one with --port");
    }
  }

  private Path samplesDir() {
    if (samples != null) {
      return samples;
    }
    String env = System.getenv("WARMSTART_SAMPLES");
    return Path.of(env != null ? env : "samples");
  }

  /** A request the workload must answer now; if not, the failure names its kept log. */
  private JsonNode call(String method, String path, Path log)
      throws InterruptedException, CliFailure {
    try {
      return send(method, path);
    } catch (IOException e) {
      throw workloadFailure(method + " " + path + " failed: " + e.getMessage(), log);
    }
  }

  private JsonNode send(String method, String path) throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
    // A client per request: no pooled connection may outlive the checkpointed server's socket.
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(method + " " + path + " answered HTTP " + r.statusCode());
    }
    return JSON.readTree(r.body());
  }

  /**
   * Waits for the workload's first answer while watching that it lives: a workload that dies is
   * reported at once, with the end of its log.
   */
  private JsonNode awaitState(BooleanSupplier alive, String what, Process process, Path log)
      throws InterruptedException, CliFailure {
    Duration timeout = Duration.ofSeconds(60L + sizeMib / 8);
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!alive.getAsBoolean()) {
        String exit = process != null ? " with code " + process.waitFor() : "";
        throw workloadFailure(what + " exited" + exit + " before answering", log);
      }
      try {
        return send("GET", "/state");
      } catch (IOException e) {
        last = String.valueOf(e.getMessage());
      }
      Thread.sleep(50);
    }
    throw workloadFailure(
        what + " did not answer on port " + port + " within " + timeout + " (" + last + ")", log);
  }

  private static CliFailure workloadFailure(String message, Path log) {
    List<String> lines;
    try {
      lines = Files.readAllLines(log);
    } catch (IOException e) {
      lines = List.of("(log unreadable: " + e.getMessage() + ")");
    }
    List<String> tail = lines.subList(Math.max(0, lines.size() - 15), lines.size());
    return new CliFailure(
        "WorkloadFailed",
        ExitCodes.FAILED,
        message
            + "; its log is kept at "
            + log
            + (tail.isEmpty() ? " (empty)" : " and ends with:\n  " + String.join("\n  ", tail)));
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
