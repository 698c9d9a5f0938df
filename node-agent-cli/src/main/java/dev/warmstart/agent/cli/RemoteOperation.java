package dev.warmstart.agent.cli;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import java.nio.file.Path;
import java.util.Objects;

/** Submits an operation to the local agent and follows it to the end, printing each step. */
final class RemoteOperation {
  private RemoteOperation() {}

  static int run(Path socket, OperationRequest request, Output out) throws Exception {
    try (AgentSocketClient agent = new AgentSocketClient(socket)) {
      OperationStatus s = agent.submit(request);
      String lastStep = null;
      while (!s.state().isTerminal()) {
        if (!Objects.equals(s.step(), lastStep) && s.step() != null) {
          out.progress(s.step());
          lastStep = s.step();
        }
        Thread.sleep(20);
        s = agent.get(s.id());
      }
      if (s.state() == OperationState.FAILED) {
        out.error(s.error().reason().name(), s.error().message());
        return ExitCodes.of(s.error().reason());
      }
      String what =
          s.image() == null
              ? ""
              : " image '" + s.image().name() + "' (" + s.image().manifestDigest() + ")";
      String pid = s.restoredPid() == null ? "" : " as PID " + s.restoredPid();
      out.result(
          s, "operation " + s.id() + " succeeded:" + what + pid + "\n" + Output.table(s.timings()));
      return ExitCodes.OK;
    }
  }
}
