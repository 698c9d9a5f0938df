package dev.warmstart.agent.it;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
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
            AgentComponents.Settings.builder(Path.of(args[0]), Path.of(args[2]), "test-node")
                .criuEnvironment(Map.of("CRIU_CONFIG_FILE", args[3]))
                .build(),
            Clock.systemUTC());
    OperationService ops =
        OperationService.builder(
                agent, new OperationJournal(Path.of(args[1])), Executors.newFixedThreadPool(2))
            .nodeName("test-node")
            .start();
    ops.submit(
        OperationRequest.checkpoint(
            "killed-agent",
            CheckpointRequest.builder(ProcessTarget.ofPid(Integer.parseInt(args[4])), args[5], 120)
                .leaveRunning(Boolean.parseBoolean(args[6]))
                .build()));
    System.out.println("submitted");
    Thread.sleep(Long.MAX_VALUE);
  }
}
