package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.agent.ops.AgentComponents;
import dev.warmstart.agent.ops.CheckpointCommand;
import dev.warmstart.agent.ops.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ProcessTarget;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts a workload that holds state only in memory, checkpoints it, kills it, restores it and
 * proves the state survived: its counter continues and its buffer's checksum is unchanged.
 */
@Command(name = "demo", description = "Checkpoint, kill and restore a stateful sample workload.")
final class DemoCommand extends WarmstartCli.Step {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Option(
      names = "--size-mib",
      defaultValue = "512",
      description = "Workload buffer size (default ${DEFAULT-VALUE}).")
  int sizeMib;

  @Option(names = "--port", defaultValue = "18080", description = "Workload port on 127.0.0.1.")
  int port;

  @Option(
      names = "--samples",
      description = "samples/ folder of the repository (env WARMSTART_SAMPLES).")
  Path samples;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    Path script = samplesDir().resolve("cpu-workload/stateful_server.py");
    if (!Files.isRegularFile(script)) {
      throw new IllegalArgumentException(
          "sample workload not found at " + script + " (use --samples)");
    }
    String name = "demo-" + ProcessHandle.current().pid();
    Path log = Files.createTempFile("warmstart-demo", ".log");
    Map<String, Long> table = new LinkedHashMap<>();

    long t = System.nanoTime();
    out.progress("starting the sample workload (" + sizeMib + " MiB of state)");
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
      JsonNode before = awaitState(Duration.ofSeconds(90));
      table.put("workload start", ms(t));
      out.progress(
          "state before: counter="
              + before.get("counter")
              + " checksum="
              + before.get("checksum").asText().substring(0, 16)
              + "...");

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
              + WarmstartCli.mib(image.manifest().sizeBytes()));

      t = System.nanoTime();
      RestoreResult restored =
          c.restores().restore(name, Optional.empty(), Duration.ofMinutes(5), out::progress);
      restoredPid = restored.pid();
      restored.timings().forEach((k, v) -> table.put("restore " + k, v));
      JsonNode after = awaitState(Duration.ofSeconds(30));
      table.put("restore to first answer", ms(t));

      long c1 = before.get("counter").asLong();
      long c2 = after.get("counter").asLong();
      boolean same = after.get("checksum").asText().equals(before.get("expected").asText());
      boolean continued = c2 >= c1;
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("counterBefore", c1);
      result.put("counterAfter", c2);
      result.put("checksumIntact", same);
      result.put("pidBefore", workload.pid());
      result.put("pidAfter", restoredPid);
      result.put("imageBytes", image.manifest().sizeBytes());
      result.put("timingsMs", table);
      StringBuilder human = new StringBuilder();
      human.append(String.format("%n%-32s %8s%n", "step", "ms"));
      table.forEach((k, v) -> human.append(String.format("%-32s %8d%n", k, v)));
      human.append(
          String.format(
              "%ncounter %d -> %d (%s), checksum of %d MiB %s, PID %d -> %d%n",
              c1,
              c2,
              continued ? "continued" : "WENT BACK",
              sizeMib,
              same ? "intact" : "CHANGED",
              workload.pid(),
              restoredPid));
      human.append(
          same && continued
              ? "demo OK: the restored process kept its in-memory state"
              : "demo FAILED: state was lost");
      out.result(result, human.toString());
      return same && continued ? ExitCodes.OK : ExitCodes.FAILED;
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
      Files.deleteIfExists(log);
    }
  }

  private Path samplesDir() {
    if (samples != null) {
      return samples;
    }
    String env = System.getenv("WARMSTART_SAMPLES");
    return Path.of(env != null ? env : "samples");
  }

  private JsonNode awaitState(Duration timeout) throws InterruptedException, IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/state"))
            .timeout(Duration.ofSeconds(10))
            .build();
    while (true) {
      try {
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return JSON.readTree(r.body());
        }
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "workload did not answer on port " + port + " within " + timeout, e);
        }
      }
      Thread.sleep(50);
    }
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
