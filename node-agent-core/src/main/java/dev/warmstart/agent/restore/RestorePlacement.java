package dev.warmstart.agent.restore;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.criu.RestoreSpec;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.VisibleGpus;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where a restored tree goes: onto the host with its own PIDs, or into a running placeholder
 * container (its namespaces, cgroups and GPUs); and, once CRIU is done, which host PID its root
 * got.
 */
final class RestorePlacement {
  private final Procfs procfs;
  private final ContainerLocator containers;
  private final GpuRuntime gpus;
  private final VisibleGpus visibleGpus = new VisibleGpus();

  RestorePlacement(Procfs procfs, ContainerLocator containers, GpuRuntime gpus) {
    this.procfs = procfs;
    this.containers = containers;
    this.gpus = gpus;
  }

  /** CRIU's restore spec for {@code cmd}: into its container, else onto the host. */
  RestoreSpec spec(RestoreCommand cmd, StoredImage image, Path files, Path work)
      throws OperationFailure {
    return cmd.intoContainer().isPresent()
        ? containerSpec(image, files, cmd.intoContainer().get(), work)
        : hostSpec(image, files, work);
  }

  /**
   * The GPUs asked for, else, for a restore into a container, the GPUs that container was given
   * (the placeholder pod's), else none (the compatibility check chooses).
   */
  List<String> targetGpus(RestoreCommand cmd, StoredImage image) {
    if (!cmd.targetGpus().isEmpty()
        || cmd.intoContainer().isEmpty()
        || image.manifest().gpu() == null) {
      return cmd.targetGpus();
    }
    try {
      return containers
          .find(cmd.intoContainer().get())
          .map(c -> visibleGpus.of(c.initPid(), gpus))
          .orElse(List.of());
    } catch (IOException | IllegalArgumentException e) {
      return List.of(); // the plan step reports a missing container
    }
  }

  /** The container restored into, if any. */
  Optional<ContainerRef> container(RestoreCommand cmd) throws OperationFailure {
    if (cmd.intoContainer().isEmpty()) {
      return Optional.empty();
    }
    try {
      return containers.find(cmd.intoContainer().get());
    } catch (IOException | IllegalArgumentException e) {
      throw new OperationFailure(ErrorReason.ContainerNotFound, e.getMessage(), e);
    }
  }

  /** The init of the container restored into, if any and found. */
  Optional<Integer> placeholderInit(RestoreCommand cmd) {
    try {
      return cmd.intoContainer().isEmpty()
          ? Optional.empty()
          : containers.find(cmd.intoContainer().get()).map(ContainerRef::initPid);
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * The restored root's host PID. In a container CRIU ran inside the placeholder's PID namespace
   * and wrote the PID it sees there; the restored root is now a child of the placeholder's init.
   */
  int hostPid(RestoreSpec spec, int pidCriuWrote) throws OperationFailure {
    if (spec.enterPidNamespaceOf().isEmpty()) {
      return pidCriuWrote;
    }
    int placeholderInit = spec.enterPidNamespaceOf().get();
    for (ProcessHandle child :
        ProcessHandle.of(placeholderInit).map(h -> h.children().toList()).orElse(List.of())) {
      try {
        List<Integer> ns = procfs.nsPids((int) child.pid());
        if (ns.size() >= 2 && ns.get(1) == pidCriuWrote) {
          return (int) child.pid();
        }
      } catch (IOException e) {
        // exited meanwhile: not ours
      }
    }
    throw new OperationFailure(
        ErrorReason.CriuFailed,
        "restored process " + pidCriuWrote + " not found in the placeholder");
  }

  private RestoreSpec hostSpec(StoredImage image, Path files, Path work) throws OperationFailure {
    var src = image.manifest().source();
    if (!"host".equals(src.pidNamespace())) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "image '"
              + image.name()
              + "' was taken from a container: restore it into a placeholder container");
    }
    for (int pid : src.processes()) {
      if (procfs.exists(pid)) {
        throw new OperationFailure(
            ErrorReason.PidInUse,
            "PID "
                + pid
                + " of the checkpointed tree is in use ("
                + procfs.cmdline(pid)
                + "); stop it or restore into a container");
      }
    }
    return RestoreSpec.onHost(files, work);
  }

  private RestoreSpec containerSpec(StoredImage image, Path files, String containerId, Path work)
      throws OperationFailure {
    try {
      ContainerRef target =
          containers
              .find(containerId)
              .orElseThrow(
                  () ->
                      new OperationFailure(
                          ErrorReason.ContainerNotFound, "no running container " + containerId));
      if (!procfs.exists(target.initPid())) {
        throw new OperationFailure(
            ErrorReason.ContainerNotFound, "container " + containerId + " is not running");
      }
      return ContainerRestorePlan.plan(image.manifest(), target, procfs, files, work);
    } catch (IOException | IllegalArgumentException e) {
      throw new OperationFailure(ErrorReason.ContainerNotFound, e.getMessage(), e);
    }
  }
}
