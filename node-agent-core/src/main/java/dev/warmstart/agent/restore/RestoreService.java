package dev.warmstart.agent.restore;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.core.Timings;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.RestoreSpec;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.agent.gpu.CudaReport;
import dev.warmstart.agent.gpu.FreshDriver;
import dev.warmstart.agent.gpu.GpuActivator;
import dev.warmstart.agent.gpu.GpuCompatibility;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.hooks.WorkloadHook;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ProcessTrees;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.ImageNotFoundException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.OpenedImage;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.agent.transfer.ImageTransfers;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.RestoreStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Restores a stored image, verified first, either as a tree on the host or into a running
 * placeholder container, as far as the command's stage says. The image is only read: one checkpoint
 * restores any number of times.
 */
public final class RestoreService {
  private final ImageStore store;
  private final Procfs procfs;
  private final GpuCompatibility compatibility;
  private final GpuActivator activator;
  private final WorkloadHook hooks = new WorkloadHook();
  private final ImageTransfers transfers;
  private final RestorePlacement placement;
  private final GatedRestore criu;
  private final GpuMemoryRestore gpuMemory;

  public RestoreService(
      CriuRunner criu,
      ImageStore store,
      Procfs procfs,
      ContainerLocator containers,
      GpuRuntime gpus,
      FreshDriver freshDriver) {
    this.store = store;
    this.procfs = procfs;
    this.compatibility = new GpuCompatibility(gpus);
    this.activator = new GpuActivator(freshDriver);
    this.transfers = new ImageTransfers(containers);
    this.placement = new RestorePlacement(procfs, containers, gpus);
    this.criu = new GatedRestore(criu);
    this.gpuMemory = new GpuMemoryRestore(procfs);
  }

  /** A full restore (CRIU and GPU) of {@code imageName}, on the host or into a container. */
  public RestoreResult restore(
      String imageName, Optional<String> intoContainer, Duration timeout, Progress progress)
      throws OperationFailure {
    return restore(
        RestoreCommand.of(imageName, timeout).intoContainer(intoContainer).build(), progress);
  }

  public RestoreResult restore(RestoreCommand cmd, Progress progress) throws OperationFailure {
    // CRIU's log, pid file and the plugin's report: not needed once the restore has ended, either
    // way; what went wrong is in the failure's message.
    ScratchDir work;
    try {
      work = store.workDir();
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.Internal, "cannot create work directory: " + e.getMessage(), e);
    }
    try (work) {
      return restore(cmd, progress, work.dir());
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.Internal, "removing the work directory: " + e.getMessage(), e);
    }
  }

  private RestoreResult restore(RestoreCommand cmd, Progress progress, Path work)
      throws OperationFailure {
    Timings timings = new Timings();
    long t = System.nanoTime();
    if (cmd.importFrom() != null) {
      progress.step("import");
      transfers.importImage(store, cmd.imageName(), cmd.importFrom());
      timings.record("import", t);
      t = System.nanoTime();
    }
    progress.step("verify");
    OpenedImage opened = open(cmd, work);
    StoredImage image = opened.image();
    criu.verifyUngated(opened, cmd.timeout());
    timings.record("verify", t);

    t = System.nanoTime();
    progress.step("gpuCheck");
    List<GpuPair> remap =
        compatibility.check(image.manifest().gpu(), placement.targetGpus(cmd, image));
    if (cmd.sameGpu()) {
      GpuCompatibility.requireSameGpus(remap);
    }
    timings.record("gpuCheck", t);

    t = System.nanoTime();
    progress.step("plan");
    RestoreSpec spec = placement.spec(cmd, image, opened.files(), work);
    timings.record("plan", t);

    t = System.nanoTime();
    progress.step("files");
    RootfsRestore.prepare(image, opened.files(), spec.root(), placement.container(cmd));
    timings.record("files", t);

    t = System.nanoTime();
    progress.step(cmd.standby() ? "prepare" : "restore");
    PartialTree partial =
        PartialTree.before(image.manifest().source().processes(), placement.placeholderInit(cmd));
    try {
      criu.restore(spec.withGpu(remapSpec(remap), cmd.stage()), opened, cmd.timeout(), timings);
    } catch (OperationFailure e) {
      // A restore that failed or was stopped partway must not leave a tree that holds the
      // image's PIDs (every retry would fail PidInUse) or hangs half-restored.
      int killed = partial.kill();
      throw killed == 0
          ? e
          : new OperationFailure(
              e.reason(), e.getMessage() + " (killed " + killed + " half-restored process(es))", e);
    }
    timings.record("criuRestore", t);
    int pid = placement.hostPid(spec, pidWritten(spec));
    finish(cmd, pid, remap, opened, work, timings, progress);
    return new RestoreResult(pid, image, timings.withTotal(), cmd.standby());
  }

  /** What follows CRIU, by stage: the GPU state checked, copied back or left for activation. */
  private void finish(
      RestoreCommand cmd,
      int pid,
      List<GpuPair> remap,
      OpenedImage opened,
      Path work,
      Timings timings,
      Progress progress)
      throws OperationFailure {
    Optional<CudaReport> cuda = cudaReport(work);
    if (cuda.isPresent() && !cuda.get().ok()) {
      // Its GPU state did not come back: the process would fail at its next CUDA call.
      ProcessTrees.kill(pid);
      throw new OperationFailure(
          ErrorReason.GpuRestoreFailed,
          "the process tree was restored but its GPU state was not: " + cuda.get().errors());
    }
    if (cmd.stage() == RestoreStage.GPU_LOCKED && cuda.isPresent()) {
      timings.put("cudaInit", Math.round(cuda.get().cuInitMs()));
      try {
        timings.putAll(activator.restoreLocked(procfs.tree(pid), remap, cmd.timeout()).timings());
      } catch (OperationFailure e) {
        ProcessTrees.kill(pid); // a half-restored standby is of no use
        throw e;
      }
    } else if (cmd.standby()) {
      cuda.ifPresent(r -> timings.put("cudaInit", Math.round(r.cuInitMs())));
    } else {
      cuda.ifPresent(r -> timings.putAll(r.timings("gpuRestore", "gpuUnlock")));
      gpuMemory.restore(pid, opened.files(), cmd.timeout(), timings); // the verified view
      if (cmd.postRestoreHook() != null) {
        long t = System.nanoTime();
        progress.step("postRestoreHook");
        hooks.call(pid, cmd.postRestoreHook(), "post-restore");
        timings.record("postRestoreHook", t);
      }
    }
  }

  private static int pidWritten(RestoreSpec spec) throws OperationFailure {
    try {
      return Integer.parseInt(Files.readString(spec.pidFile()).trim());
    } catch (IOException | NumberFormatException e) {
      throw new OperationFailure(
          ErrorReason.CriuFailed, "criu restore wrote no pid file: " + e.getMessage(), e);
    }
  }

  private static Optional<CudaReport> cudaReport(Path work) throws OperationFailure {
    try {
      return CudaReport.read(work, CudaReport.RESTORE);
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.CriuFailed, "reading the CUDA plugin's restore report: " + e.getMessage(), e);
    }
  }

  private static Optional<String> remapSpec(List<GpuPair> pairs) {
    return pairs.isEmpty()
        ? Optional.empty()
        : Optional.of(
            pairs.stream().map(p -> p.from() + "=" + p.to()).collect(Collectors.joining(",")));
  }

  /** The image, verified against its manifest and the digest the checkpoint recorded. */
  private OpenedImage open(RestoreCommand cmd, Path work) throws OperationFailure {
    String name = cmd.imageName();
    OpenedImage opened;
    try {
      Path view =
          Files.createDirectory(
              work.resolve("image"),
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      opened = store.openForRestore(name, view);
    } catch (ImageNotFoundException e) {
      throw new OperationFailure(ErrorReason.ImageNotFound, e.getMessage(), e);
    } catch (ImageIntegrityException e) {
      throw new OperationFailure(ErrorReason.ImageIntegrityFailed, e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new OperationFailure(ErrorReason.InvalidRequest, e.getMessage(), e);
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.Internal, "reading image '" + name + "': " + e.getMessage(), e);
    }
    StoredImage image = opened.image();
    if (cmd.expectedDigest() != null && !cmd.expectedDigest().equals(image.digest())) {
      throw new OperationFailure(
          ErrorReason.ImageIntegrityFailed,
          "image '"
              + image.name()
              + "' has digest "
              + image.digest()
              + ", but the checkpoint recorded "
              + cmd.expectedDigest()
              + ": it was replaced or is another image of that name");
    }
    return opened;
  }
}
