package dev.warmstart.agent.cli;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.ProcessTarget;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code warmstart checkpoint}: a process tree or a container into the store, or through the agent.
 */
@Command(
    name = "checkpoint",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Checkpoint a process tree or a container into the store.")
final class CheckpointStep extends Step {
  @ArgGroup(exclusive = true, multiplicity = "1")
  TargetOptions target;

  @Option(names = "--name", required = true, description = "Image name.")
  String name;

  @Option(
      names = "--stop",
      description = "Stop the workload after the capture (default: leave it running).")
  boolean stop;

  @CommandLine.Mixin TimeoutOption timeout;

  @Option(
      names = "--replace",
      description =
          "Replace an image of the same name; the old one stays until the new one is complete."
              + " Without it an existing name is refused (exit 7).")
  boolean replace;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    if (cli.agentSocket().isPresent()) {
      return RemoteOperation.run(
          cli.requireAgentSocket(),
          OperationRequest.checkpoint(
              "cli-" + UUID.randomUUID(),
              CheckpointRequest.builder(target.target(), name, timeout.seconds)
                  .leaveRunning(!stop)
                  .labels(Map.of())
                  .replace(replace)
                  .build()),
          out);
    }
    StoredImage image =
        c.checkpoints()
            .checkpoint(
                CheckpointCommand.of(target.target(), name, timeout.duration())
                    .leaveRunning(!stop)
                    .replace(replace)
                    .build(),
                out::progress);
    out.result(
        ImageViews.summary(image),
        "checkpointed "
            + image.manifest().source().processes().size()
            + " process(es) into '"
            + name
            + "' ("
            + ImageViews.mib(image.manifest().sizeBytes())
            + ", "
            + image.digest()
            + ")\n"
            + Output.table(image.manifest().timings()));
    return ExitCodes.OK;
  }

  static final class TargetOptions {
    @Option(names = "--pid", required = true, description = "Root PID of the tree.")
    Integer pid;

    @Option(names = "--container", required = true, description = "Container id (runc state).")
    String container;

    ProcessTarget target() {
      return pid != null ? ProcessTarget.ofPid(pid) : ProcessTarget.ofContainer(container);
    }
  }
}
