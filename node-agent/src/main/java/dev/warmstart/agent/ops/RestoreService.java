package dev.warmstart.agent.ops;

import dev.warmstart.agent.criu.CriuFailure;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.RestoreSpec;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.ImageNotFoundException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Restores a stored image, verified first, either as a tree on the host or into a running
 * placeholder container. The image is only read: one checkpoint restores any number of times.
 */
public final class RestoreService {
  private final CriuRunner criu;
  private final ImageStore store;
  private final Procfs procfs;
  private final ContainerLocator containers;
  private final Path workRoot;

  public RestoreService(
      CriuRunner criu,
      ImageStore store,
      Procfs procfs,
      ContainerLocator containers,
      Path workRoot) {
    this.criu = criu;
    this.store = store;
    this.procfs = procfs;
    this.containers = containers;
    this.workRoot = workRoot;
  }

  public RestoreResult restore(
      String imageName, Optional<String> intoContainer, Duration timeout, Progress progress)
      throws CriuFailure {
    return restore(imageName, intoContainer, Optional.empty(), timeout, progress);
  }

  /**
   * @param gpuRemap GPU UUID pairs for the plugin ("GPU-old=GPU-new,..."), for a target GPU other
   *     than the checkpoint's
   */
  public RestoreResult restore(
      String imageName,
      Optional<String> intoContainer,
      Optional<String> gpuRemap,
      Duration timeout,
      Progress progress)
      throws CriuFailure {
    Timings timings = new Timings();
    long t = System.nanoTime();
    progress.step("verify");
    StoredImage image = verified(imageName);
    timings.record("verify", t);

    Path work;
    try {
      Files.createDirectories(workRoot);
      work =
          Files.createTempDirectory(
              workRoot,
              "restore-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new CriuFailure(
          ErrorReason.Internal, "cannot create work directory: " + e.getMessage(), e);
    }
    t = System.nanoTime();
    progress.step("plan");
    RestoreSpec spec =
        intoContainer.isPresent()
            ? containerSpec(image, intoContainer.get(), work)
            : hostSpec(image, work);
    timings.record("plan", t);

    t = System.nanoTime();
    progress.step("restore");
    criu.restore(spec.withGpuRemap(gpuRemap), timeout);
    timings.record("criuRestore", t);
    try {
      Files.deleteIfExists(image.dir().resolve("stats-restore"));
      int pid = Integer.parseInt(Files.readString(spec.pidFile()).trim());
      if (spec.enterPidNamespaceOf().isPresent()) {
        pid = hostPidOf(spec.enterPidNamespaceOf().get(), pid);
      }
      Optional<CudaReport> cuda = CudaReport.read(work, CudaReport.RESTORE);
      if (cuda.isPresent() && !cuda.get().ok()) {
        // Its GPU state did not come back: the process would fail at its next CUDA call.
        killTree(pid);
        throw new CriuFailure(
            ErrorReason.GpuRestoreFailed,
            "the process tree was restored but its GPU state was not: " + cuda.get().errors());
      }
      cuda.ifPresent(r -> timings.putAll(r.timings("gpuRestore", "gpuUnlock")));
      return new RestoreResult(pid, image, timings.withTotal());
    } catch (IOException | NumberFormatException e) {
      throw new CriuFailure(
          ErrorReason.CriuFailed, "criu restore wrote no pid file: " + e.getMessage(), e);
    }
  }

  /**
   * CRIU ran inside the placeholder's PID namespace and wrote the PID it sees there; the restored
   * root is now a child of the placeholder's init.
   */
  private int hostPidOf(int placeholderInit, int pidInPlaceholder) throws CriuFailure {
    for (ProcessHandle child :
        ProcessHandle.of(placeholderInit).map(h -> h.children().toList()).orElse(List.of())) {
      try {
        List<Integer> ns = procfs.nsPids((int) child.pid());
        if (ns.size() >= 2 && ns.get(1) == pidInPlaceholder) {
          return (int) child.pid();
        }
      } catch (IOException e) {
        // exited meanwhile: not ours
      }
    }
    throw new CriuFailure(
        ErrorReason.CriuFailed,
        "restored process " + pidInPlaceholder + " not found in the placeholder");
  }

  private static void killTree(int pid) {
    ProcessHandle.of(pid)
        .ifPresent(
            h -> {
              h.descendants().forEach(ProcessHandle::destroyForcibly);
              h.destroyForcibly();
            });
  }

  private StoredImage verified(String name) throws CriuFailure {
    try {
      return store.open(name);
    } catch (ImageNotFoundException e) {
      throw new CriuFailure(ErrorReason.ImageNotFound, e.getMessage(), e);
    } catch (ImageIntegrityException e) {
      throw new CriuFailure(ErrorReason.ImageIntegrityFailed, e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new CriuFailure(ErrorReason.InvalidRequest, e.getMessage(), e);
    } catch (IOException e) {
      throw new CriuFailure(
          ErrorReason.Internal, "reading image '" + name + "': " + e.getMessage(), e);
    }
  }

  private RestoreSpec hostSpec(StoredImage image, Path work) throws CriuFailure {
    var src = image.manifest().source();
    if (!"host".equals(src.pidNamespace())) {
      throw new CriuFailure(
          ErrorReason.InvalidRequest,
          "image '"
              + image.name()
              + "' was taken from a container: restore it into a placeholder container");
    }
    for (int pid : src.processes()) {
      if (procfs.exists(pid)) {
        throw new CriuFailure(
            ErrorReason.PidInUse,
            "PID "
                + pid
                + " of the checkpointed tree is in use ("
                + procfs.cmdline(pid)
                + "); stop it or restore into a container");
      }
    }
    return RestoreSpec.onHost(image.dir(), work);
  }

  private RestoreSpec containerSpec(StoredImage image, String containerId, Path work)
      throws CriuFailure {
    try {
      ContainerRef target =
          containers
              .find(containerId)
              .orElseThrow(
                  () ->
                      new CriuFailure(
                          ErrorReason.ContainerNotFound, "no running container " + containerId));
      if (!procfs.exists(target.initPid())) {
        throw new CriuFailure(
            ErrorReason.ContainerNotFound, "container " + containerId + " is not running");
      }
      return ContainerRestorePlan.plan(image.manifest(), target, procfs, image.dir(), work);
    } catch (IOException | IllegalArgumentException e) {
      throw new CriuFailure(ErrorReason.ContainerNotFound, e.getMessage(), e);
    }
  }
}
