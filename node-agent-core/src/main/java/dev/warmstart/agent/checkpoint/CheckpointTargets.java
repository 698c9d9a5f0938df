package dev.warmstart.agent.checkpoint;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ProcessTarget;
import java.io.IOException;

/** The root PID of the tree a checkpoint names: a host PID, or a running container's init. */
final class CheckpointTargets {
  private final Procfs procfs;
  private final ContainerLocator containers;

  CheckpointTargets(Procfs procfs, ContainerLocator containers) {
    this.procfs = procfs;
    this.containers = containers;
  }

  int rootPid(ProcessTarget target) throws OperationFailure {
    if (target.pid() != null) {
      int pid = target.pid();
      if (!procfs.exists(pid)) {
        throw new OperationFailure(ErrorReason.ProcessNotFound, "no process with PID " + pid);
      }
      return pid;
    }
    if (target.containerId() == null) {
      throw new OperationFailure(ErrorReason.InvalidRequest, "target needs a pid or a containerId");
    }
    try {
      ContainerRef c =
          containers
              .find(target.containerId())
              .orElseThrow(
                  () ->
                      new OperationFailure(
                          ErrorReason.ContainerNotFound,
                          "no running container " + target.containerId()));
      if (!procfs.exists(c.initPid())) {
        throw new OperationFailure(
            ErrorReason.ContainerNotFound, "container " + c.id() + " is not running");
      }
      return c.initPid();
    } catch (IOException | IllegalArgumentException e) {
      throw new OperationFailure(ErrorReason.ContainerNotFound, e.getMessage(), e);
    }
  }
}
