package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.proc.CommandLines;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoredImage;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code warmstart inspect}: one image, verified against its manifest. */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Verify an image against its manifest and show it.")
final class InspectStep extends Step {
  @Parameters(index = "0", description = "Image name.")
  String name;

  @Override
  int run(AgentComponents c, Output out) throws Exception {
    StoredImage image = c.store().open(name);
    Manifest m = image.manifest();
    out.result(
        Map.of("digest", image.digest(), "manifest", m),
        "name:      "
            + m.name()
            + "\ndigest:    "
            + image.digest()
            + " (all "
            + m.files().size()
            + " files verified)\nsize:      "
            + ImageViews.mib(m.sizeBytes())
            + "\ncreated:   "
            + m.createdAt()
            + " on "
            + m.node()
            + "\ncriu:      "
            + m.criuVersion()
            + "\nsource:    PID "
            + m.source().pid()
            + " ("
            + CommandLines.redact(m.source().command())
            + "), "
            + m.source().processes().size()
            + " process(es), pid namespace "
            + m.source().pidNamespace()
            + "\ntimings:\n"
            + Output.table(m.timings()));
    return ExitCodes.OK;
  }
}
