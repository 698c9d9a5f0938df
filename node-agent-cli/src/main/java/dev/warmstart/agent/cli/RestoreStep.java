package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.RestoreRequest;
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
      names = "--prepare",
      description =
          "Stop after CRIU: the process runs with its CUDA state checkpointed, holding no GPU"
              + " memory, until `warmstart activate`.")
  boolean prepare;

  @Option(
      names = "--hot",
      description =
          "With --prepare: also copy the GPU memory back, keeping the process locked (activation"
              + " is then only the unlock).")
  boolean hot;

  @Option(
      names = "--gpu",
      description = "Restore onto this GPU (UUID; repeat for several). Default: the same GPUs.")
  List<String> gpus = new ArrayList<>();

  @Option(
      names = "--same-gpu",
      description =
          "Fail (IncompatibleGpu) unless the target GPUs are the very GPUs of the checkpoint.")
  boolean sameGpu;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    if (hot && !prepare) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--hot needs --prepare (a Hot standby is a prepared restore)");
    }
    if (cli.agentSocket().isPresent()) {
      return RemoteOperation.run(
          cli.requireAgentSocket(),
          OperationRequest.restore(
              "cli-" + UUID.randomUUID(),
              new RestoreRequest(
                  name,
                  container,
                  gpus,
                  timeout.seconds,
                  prepare ? true : null,
                  prepare && hot ? true : null,
                  null,
                  sameGpu ? true : null,
                  null,
                  null)),
          out);
    }
    RestoreResult r =
        c.restores()
            .restore(
                RestoreCommand.of(name, timeout.duration())
                    .intoContainer(Optional.ofNullable(container))
                    .targetGpus(gpus)
                    .stage(
                        !prepare
                            ? RestoreCommand.Stage.RUN
                            : hot ? RestoreCommand.Stage.HOT : RestoreCommand.Stage.WARM)
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
