package dev.warmstart.agent.restore;

import dev.warmstart.agent.activation.ActivateCommand;
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
import dev.warmstart.agent.gpu.VisibleGpus;
import dev.warmstart.agent.gpumem.GpuMemoryPayload;
import dev.warmstart.agent.hooks.WorkloadHook;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.ImageNotFoundException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.OpenedImage;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.agent.transfer.ImageTransfers;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
  private final GpuCompatibility compatibility;
  private final GpuActivator activator;
  private final GpuRuntime gpus;
  private final VisibleGpus visibleGpus = new VisibleGpus();
  private final WorkloadHook hooks = new WorkloadHook();
  private final ImageTransfers transfers;
  private final GpuMemoryPayload gpuMemory;

  public RestoreService(
      CriuRunner criu,
      ImageStore store,
      Procfs procfs,
      ContainerLocator containers,
      GpuRuntime gpus,
      FreshDriver freshDriver) {
    this.criu = criu;
    this.store = store;
    this.procfs = procfs;
    this.containers = containers;
    this.compatibility = new GpuCompatibility(gpus);
    this.activator = new GpuActivator(gpus, freshDriver);
    this.gpus = gpus;
    this.transfers = new ImageTransfers(containers);
    this.gpuMemory = new GpuMemoryPayload(procfs);
  }

  /** A full restore (CRIU and GPU) of {@code imageName}, on the host or into a container. */
  public RestoreResult restore(
      String imageName, Optional<String> intoContainer, Duration timeout, Progress progress)
      throws OperationFailure {
    return restore(RestoreCommand.full(imageName, intoContainer, timeout), progress);
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
    OpenedImage opened = opened(cmd.imageName(), work);
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
    if (!criu.hasIntegrityGate()) {
      awaitPages(opened, cmd.timeout()); // nothing can hold the tree: prove the pages first
    }
    timings.record("verify", t);

    t = System.nanoTime();
    progress.step("gpuCheck");
    List<GpuPair> remap = compatibility.check(image.manifest().gpu(), targetGpus(cmd, image));
    if (cmd.sameGpu()) {
      GpuCompatibility.requireSameGpus(remap);
    }
    timings.record("gpuCheck", t);

    t = System.nanoTime();
    progress.step("plan");
    RestoreSpec spec =
        cmd.intoContainer().isPresent()
            ? containerSpec(image, opened.files(), cmd.intoContainer().get(), work)
            : hostSpec(image, opened.files(), work);
    timings.record("plan", t);

    t = System.nanoTime();
    progress.step("files");
    RootfsRestore.prepare(image, opened.files(), spec.root(), containerOf(cmd));
    timings.record("files", t);

    t = System.nanoTime();
    progress.step(cmd.prepareOnly() ? "prepare" : "restore");
    PartialTree partial =
        PartialTree.before(
            image.manifest().source().processes(), placeholderInit(cmd.intoContainer()));
    try {
      restoreBehindGate(
          spec.withGpu(remapSpec(remap), cmd.prepareOnly()), opened, cmd.timeout(), timings);
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
    try {

      int pid = Integer.parseInt(Files.readString(spec.pidFile()).trim());
      if (spec.enterPidNamespaceOf().isPresent()) {
        pid = hostPidOf(spec.enterPidNamespaceOf().get(), pid);
      }
      Optional<CudaReport> cuda = CudaReport.read(work, CudaReport.RESTORE);
      if (cuda.isPresent() && !cuda.get().ok()) {
        // Its GPU state did not come back: the process would fail at its next CUDA call.
        killTree(pid);
        throw new OperationFailure(
            ErrorReason.GpuRestoreFailed,
            "the process tree was restored but its GPU state was not: " + cuda.get().errors());
      }
      if (cmd.stage() == RestoreCommand.Stage.HOT && cuda.isPresent()) {
        timings.put("cudaInit", Math.round(cuda.get().cuInitMs()));
        try {
          timings.putAll(activator.restoreLocked(procfs.tree(pid), remap, cmd.timeout()).timings());
        } catch (OperationFailure e) {
          killTree(pid); // a half-restored standby is of no use
          throw e;
        }
      } else if (cmd.prepareOnly()) {
        cuda.ifPresent(r -> timings.put("cudaInit", Math.round(r.cuInitMs())));
      } else {
        cuda.ifPresent(r -> timings.putAll(r.timings("gpuRestore", "gpuUnlock")));
        restoreGpuMemory(pid, opened.files(), cmd.timeout(), timings); // the verified view
        if (cmd.postRestoreHook() != null) {
          t = System.nanoTime();
          progress.step("postRestoreHook");
          hooks.call(pid, cmd.postRestoreHook(), "post-restore");
          timings.record("postRestoreHook", t);
        }
      }
      return new RestoreResult(pid, image, timings.withTotal(), cmd.prepareOnly());
    } catch (IOException | NumberFormatException e) {
      throw new OperationFailure(
          ErrorReason.CriuFailed, "criu restore wrote no pid file: " + e.getMessage(), e);
    }
  }

  /**
   * The second step of a prepared restore: the driver copies the tree's GPU memory back (onto the
   * chosen GPUs) and unlocks it. A tree whose GPU state cannot come back is killed, as in a full
   * restore: left alone it would hang at its next CUDA call.
   */
  public Map<String, Long> activate(ActivateCommand cmd) throws OperationFailure {
    Timings timings = new Timings();
    long t = System.nanoTime();
    if (!procfs.exists(cmd.rootPid())) {
      throw new OperationFailure(
          ErrorReason.ProcessNotFound,
          "prepared process " + cmd.rootPid() + " is gone: restore the image again");
    }
    Manifest manifest;
    try {
      manifest = store.manifest(cmd.imageName());
    } catch (ImageNotFoundException e) {
      throw new OperationFailure(ErrorReason.ImageNotFound, e.getMessage(), e);
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.Internal, "reading the manifest: " + e.getMessage(), e);
    }
    List<GpuPair> remap = compatibility.check(manifest.gpu(), cmd.targetGpus());
    if (cmd.sameGpu()) {
      GpuCompatibility.requireSameGpus(remap);
    }
    timings.record("gpuCheck", t);
    // A tree without CUDA processes holds nothing locked: it runs since its CRIU restore, and
    // activating it needs no driver (the standby pools of CPU-only workloads).
    boolean cuda =
        manifest.gpu() != null
            && manifest.gpu().processes() != null
            && !manifest.gpu().processes().isEmpty();
    if (cuda) {
      try {
        timings.putAll(
            activator.activate(procfs.tree(cmd.rootPid()), remap, cmd.timeout()).timings());
      } catch (OperationFailure e) {
        if (e.reason() == ErrorReason.GpuRestoreFailed) {
          killTree(cmd.rootPid());
        }
        throw e;
      }
    }
    Path imageDir = store.root().resolve(cmd.imageName());
    if (GpuMemoryPayload.present(imageDir)) {
      // The payload's data is checked piece by piece by the shim against its index: the index
      // must be the one of the image the prepared restore verified.
      try {
        store.verifyFiles(
            cmd.imageName(),
            cmd.imageDigest(),
            p -> p.startsWith(GpuMemoryPayload.DIR + "/") && p.endsWith("/gpumem.index"));
      } catch (ImageIntegrityException | ImageNotFoundException | IOException e) {
        killTree(cmd.rootPid()); // it must not run without its memory
        throw new OperationFailure(
            ErrorReason.ImageIntegrityFailed,
            "the GPU memory payload cannot be trusted: " + e.getMessage(),
            e);
      }
    }
    restoreGpuMemory(cmd.rootPid(), imageDir, cmd.timeout(), timings);
    if (cmd.postRestoreHook() != null) {
      t = System.nanoTime();
      hooks.call(cmd.rootPid(), cmd.postRestoreHook(), "post-restore");
      timings.record("postRestoreHook", t);
    }
    return timings.withTotal();
  }

  /**
   * With the driver's part done and the tree let run, the managed GPU memory of shim processes
   * (gpu-shim/) comes back; their CUDA calls wait at the shim's gate until then. A tree that cannot
   * get it back is killed: it must not run without its memory.
   */
  private void restoreGpuMemory(int rootPid, Path imageDir, Duration timeout, Timings timings)
      throws OperationFailure {
    long t = System.nanoTime();
    try {
      gpuMemory.restore(procfs.tree(rootPid), imageDir, timeout);
    } catch (OperationFailure e) {
      killTree(rootPid);
      throw e;
    }
    if (GpuMemoryPayload.present(imageDir)) {
      timings.record("gpuMemoryRestore", t);
    }
  }

  /**
   * The GPUs asked for, else, for a restore into a container, the GPUs that container was given
   * (the placeholder pod's), else none (the compatibility check chooses).
   */
  private List<String> targetGpus(RestoreCommand cmd, StoredImage image) {
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

  private Optional<ContainerRef> containerOf(RestoreCommand cmd) throws OperationFailure {
    if (cmd.intoContainer().isEmpty()) {
      return Optional.empty();
    }
    try {
      return containers.find(cmd.intoContainer().get());
    } catch (IOException | IllegalArgumentException e) {
      throw new OperationFailure(ErrorReason.ContainerNotFound, e.getMessage(), e);
    }
  }

  private Optional<Integer> placeholderInit(Optional<String> container) {
    try {
      return container.isEmpty()
          ? Optional.empty()
          : containers.find(container.get()).map(ContainerRef::initPid);
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> remapSpec(List<GpuPair> pairs) {
    return pairs.isEmpty()
        ? Optional.empty()
        : Optional.of(
            pairs.stream()
                .map(p -> p.from() + "=" + p.to())
                .collect(java.util.stream.Collectors.joining(",")));
  }

  /**
   * CRIU ran inside the placeholder's PID namespace and wrote the PID it sees there; the restored
   * root is now a child of the placeholder's init.
   */
  private int hostPidOf(int placeholderInit, int pidInPlaceholder) throws OperationFailure {
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
    throw new OperationFailure(
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

  /**
   * CRIU restores while the page files are hashed; the plugin holds the restored tree until they
   * are proven (or kills it). A restore that failed verification reports that, whatever CRIU says.
   */
  private void restoreBehindGate(
      RestoreSpec spec, OpenedImage opened, Duration timeout, Timings timings)
      throws OperationFailure {
    if (!criu.hasIntegrityGate()) {
      criu.restore(spec, timeout);
      return;
    }
    VerificationGate gate = VerificationGate.open(spec.workDir(), opened.pages(), timeout);
    OperationFailure failed = null;
    try {
      criu.restore(spec, timeout, Optional.of(gate.prefix()));
    } catch (OperationFailure e) {
      failed = e;
    } finally {
      try {
        gate.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Optional<OperationFailure> integrity =
        gate.failure().filter(f -> f.reason() == ErrorReason.ImageIntegrityFailed);
    if (integrity.isPresent()) {
      throw integrity.get();
    }
    if (failed != null) {
      throw failed;
    }
    timings.put("verifyPages", opened.pages().hashing().toMillis());
    gate.heldMs().ifPresent(ms -> timings.put("verifyHeld", ms));
  }

  private static void awaitPages(OpenedImage opened, Duration timeout) throws OperationFailure {
    try {
      opened.pages().awaitVerified(timeout);
    } catch (ImageIntegrityException e) {
      throw new OperationFailure(ErrorReason.ImageIntegrityFailed, e.getMessage(), e);
    } catch (IOException e) {
      throw new OperationFailure(ErrorReason.Internal, "verifying the image: " + e.getMessage(), e);
    }
  }

  private OpenedImage opened(String name, Path work) throws OperationFailure {
    try {
      Path view =
          Files.createDirectory(
              work.resolve("image"),
              java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                  java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
      return store.openForRestore(name, view);
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
