package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.proc.ProcessTrees;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
    DemoWorkload.requireFreePort(port);
    String name = "demo-" + ProcessHandle.current().pid();
    Path log = Files.createTempFile("warmstart-demo-", ".log");
    DemoWorkload sample = new DemoWorkload(script, port, sizeMib, log);
    Map<String, Long> table = new LinkedHashMap<>();
    boolean ok = false;

    long t = System.nanoTime();
    out.progress("starting the sample workload (" + sizeMib + " MiB of random state)");
    Process workload = sample.start();
    Integer restoredPid = null;
    try {
      sample.awaitState(workload::isAlive, "the sample workload", workload);
      long coldStart = ms(t);
      table.put("workload cold start", coldStart);

      JsonNode before = null;
      for (int i = 0; i < MUTATIONS; i++) {
        before = sample.call("POST", "/mutate");
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
                  CheckpointCommand.of(
                          ProcessTarget.ofPid((int) workload.pid()), name, Duration.ofMinutes(5))
                      .labels(Map.of("sample", "demo"))
                      .build(),
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
          sample.awaitState(
              () -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
              "the restored workload",
              null);
      long restoreToAnswer = ms(t);
      table.put("restore to first answer", restoreToAnswer);
      long next = sample.call("POST", "/mutate").get("counter").asLong();

      DemoReport report =
          new DemoReport(
              sizeMib,
              counter,
              after.get("counter").asLong(),
              next,
              checksum,
              after.get("checksum").asText(),
              workload.pid(),
              pid,
              image.manifest().sizeBytes(),
              coldStart,
              restoreToAnswer,
              table);
      ok = report.ok();
      out.result(report.json(), report.text(log));
      return ok ? ExitCodes.OK : ExitCodes.FAILED;
    } finally {
      workload.destroyForcibly();
      if (restoredPid != null) {
        ProcessTrees.kill(restoredPid);
      }
      c.store().delete(name);
      if (ok) {
        Files.deleteIfExists(log);
      } else {
        out.note("the workload's log is kept at " + log);
      }
    }
  }

  private Path samplesDir() {
    if (samples != null) {
      return samples;
    }
    String env = System.getenv("WARMSTART_SAMPLES");
    return Path.of(env != null ? env : "samples");
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
