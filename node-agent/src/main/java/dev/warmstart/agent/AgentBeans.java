package dev.warmstart.agent;

import dev.warmstart.agent.ops.AgentComponents;
import dev.warmstart.agent.ops.OperationJournal;
import dev.warmstart.agent.ops.OperationService;
import dev.warmstart.agent.proc.Procfs;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.ExecutorService;

/** Wires the agent's core (plain classes, shared with the CLI) into Quarkus. */
public class AgentBeans {

  @Produces
  @Singleton
  Clock clock() {
    return Clock.systemUTC();
  }

  @Produces
  @Singleton
  AgentComponents components(AgentConfig config, Clock clock) throws IOException {
    return AgentComponents.create(
        new AgentComponents.Settings(
            config.storeRoot(),
            config.criuBinary(),
            config.pluginDir(),
            config.runcStateRoots(),
            config.nodeName()),
        clock);
  }

  @Produces
  @Singleton
  OperationService operations(
      AgentComponents components, AgentConfig config, ExecutorService executor, Clock clock)
      throws IOException {
    return new OperationService(
        components,
        new OperationJournal(config.journalDir()),
        executor,
        clock,
        config.nodeName(),
        new Procfs());
  }
}
