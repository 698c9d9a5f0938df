package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.gpu.GpuReport;
import dev.warmstart.agent.gpu.WarmContextPool;
import picocli.CommandLine.Command;

/** {@code warmstart gpus}: this machine's GPUs as the agent sees them. */
@Command(
    name = "gpus",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Show this machine's GPUs as the agent sees them.")
final class GpusStep extends Step {
  @Override
  int run(AgentComponents c, Output out) {
    GpuReport report = GpuReport.of(c.gpus(), WarmContextPool.empty());
    StringBuilder text = new StringBuilder();
    if (!report.available()) {
      text.append("no GPU: ").append(report.unavailableReason());
    } else {
      text.append("driver ").append(report.driverVersion()).append('\n');
      for (CudaDevice d : report.devices()) {
        text.append(
            String.format(
                "%d  %s  %s  %d MiB%n",
                d.ordinal(), d.uuid(), d.name(), d.totalMemoryBytes() >> 20));
      }
    }
    out.result(report, text.toString().strip());
    return ExitCodes.OK;
  }
}
