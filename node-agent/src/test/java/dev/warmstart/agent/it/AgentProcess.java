package dev.warmstart.agent.it;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;

/**
 * A node agent in a process of its own, for tests that kill it: its operation service on a store
 * and journal, one checkpoint of a PID submitted, then it waits to be killed.
 *
 * <p>Usage: AgentProcess STORE JOURNAL CRIU CRIU_CONFIG_FILE PID IMAGE LEAVE_RUNNING
 */
public final class AgentProcess {
  private AgentProcess() {}

  public static void main(String[] args) throws Exception {
    AgentComponents agent =
        AgentComponents.create(
            new AgentComponents.Settings(
                Path.of(args[0]),
                Path.of(args[2]),
                Optional.empty(),
                AgentComponents.DEFAULT_RUNC_ROOTS,
                "test-node",
                Map.of("CRIU_CONFIG_FILE", args[3])),
            Clock.systemUTC());
    OperationService ops =
        new OperationService(
            agent,
            new OperationJournal(Path.of(args[1])),
            Executors.newFixedThreadPool(2),
            Clock.systemUTC(),
            "test-node",
            new Procfs());
    ops.submit(
        OperationRequest.checkpoint(
            "killed-agent",
            new CheckpointRequest(
                ProcessTarget.ofPid(Integer.parseInt(args[4])),
                args[5],
                Boolean.parseBoolean(args[6]),
                120,
                null,
                null)));
    System.out.println("submitted");
    Thread.sleep(Long.MAX_VALUE);
  }
}
