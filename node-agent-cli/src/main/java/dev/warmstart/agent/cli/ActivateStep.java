package dev.warmstart.agent.cli;

import dev.warmstart.agent.activation.ActivateCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.OperationRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code warmstart activate}: the GPU state of a prepared restore back. */
@Command(
    name = "activate",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Bring back the GPU state of a prepared restore (driver restore + unlock).")
final class ActivateStep extends Step {
  @Option(
      names = "--operation",
      description = "The agent's prepared RESTORE operation (with --agent-socket).")
  String operation;

  @Option(names = "--pid", description = "Root PID of a tree prepared by this CLI.")
  Integer pid;

  @Option(names = "--image", description = "The image it was prepared from (with --pid).")
  String image;

  @Option(names = "--gpu", description = "Restore onto this GPU (UUID; repeat for several).")
  List<String> gpus = new ArrayList<>();

  @CommandLine.Mixin TimeoutOption timeout;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    if (cli.agentSocket().isPresent()) {
      if (operation == null) {
        throw new IllegalArgumentException("with --agent-socket, name the --operation");
      }
      return RemoteOperation.run(
          cli.requireAgentSocket(),
          OperationRequest.activate(
              "cli-" + UUID.randomUUID(), new ActivateRequest(operation, gpus, timeout.seconds)),
          out);
    }
    if (pid == null || image == null) {
      throw new IllegalArgumentException("name the prepared tree: --pid and --image");
    }
    Map<String, Long> timings =
        c.activations()
            .activate(ActivateCommand.of(pid, image, timeout.duration()).targetGpus(gpus).build());
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("pid", pid);
    result.put("timings", timings);
    out.result(result, "activated PID " + pid + "\n" + Output.table(timings));
    return ExitCodes.OK;
  }
}
