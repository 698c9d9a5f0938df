package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.RestoreRequest;
import dev.warmstart.api.agent.RestoreStage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warmstart restore}: an image, fully or as a prepared standby, locally or through the
 * agent.
 */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Restore an image (verified first); the image is kept.")
final class RestoreStep extends Step {
  @Parameters(index = "0", description = "Image name.")
  String name;

  @Option(
      names = "--into-container",
      description = "Running placeholder container to restore into.")
  String container;

  @CommandLine.Mixin TimeoutOption timeout;

  @Option(
      names = "--stage",
      paramLabel = "STAGE",
      converter = StageName.class,
      description =
          "How far to go: running (default: everything), processes (CRIU only: the process exists"
              + " with its CUDA state checkpointed, holding no GPU memory, until `warmstart"
              + " activate`) or gpu-locked (the GPU memory copied back too, the process kept"
              + " locked: activation is only the unlock).")
  RestoreStage stage = RestoreStage.RUNNING;

  @Option(
      names = "--gpu",
      description = "Restore onto this GPU (UUID; repeat for several). Default: the same GPUs.")
  List<String> gpus = new ArrayList<>();

  @Option(
      names = "--same-gpu",
      description =
          "Fail (IncompatibleGpu) unless the target GPUs are the very GPUs of the checkpoint.")
  boolean sameGpu;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    if (cli.agentSocket().isPresent()) {
      return RemoteOperation.run(
          cli.requireAgentSocket(),
          OperationRequest.restore(
              "cli-" + UUID.randomUUID(),
              RestoreRequest.builder(name, timeout.seconds)
                  .intoContainerId(container)
                  .targetGpuUuids(gpus)
                  .stage(stage)
                  .sameGpu(sameGpu)
                  .build()),
          out);
    }
    RestoreResult r =
        c.restores()
            .restore(
                RestoreCommand.of(name, timeout.duration())
                    .intoContainer(Optional.ofNullable(container))
                    .targetGpus(gpus)
                    .stage(stage)
                    .sameGpu(sameGpu)
                    .build(),
                out::progress);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("name", name);
    result.put("pid", r.pid());
    result.put("prepared", r.prepared());
    result.put("timings", r.timings());
    out.result(
        result,
        (r.prepared() ? "prepared '" : "restored '")
            + name
            + "' as PID "
            + r.pid()
            + preparedNote(r)
            + "\n"
            + Output.table(r.timings()));
    return ExitCodes.OK;
  }

  /** The stage's command-line spelling ({@link RestoreStage#cliName()}). */
  static final class StageName implements CommandLine.ITypeConverter<RestoreStage> {
    @Override
    public RestoreStage convert(String value) {
      try {
        return RestoreStage.ofCliName(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** What a prepared restore left to do; a CPU-only image has no GPU state to bring back. */
  static String preparedNote(RestoreResult r) {
    if (!r.prepared()) {
      return "";
    }
    return r.image().manifest().gpu() == null
        ? " (a CPU-only image: it runs already, there is nothing to activate)"
        : " (GPU state checkpointed: `warmstart activate`)";
  }
}
