package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.store.ImageNotFoundException;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code warmstart delete}: one image. */
@Command(
    name = "delete",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Delete an image.")
final class DeleteStep extends Step {
  @Parameters(index = "0", description = "Image name.")
  String name;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    if (!c.store().delete(name)) {
      throw new ImageNotFoundException(name);
    }
    out.result(Map.of("deleted", name), "deleted '" + name + "'");
    return ExitCodes.OK;
  }
}
