package dev.warmstart.agent.activation;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Timings;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.agent.gpu.FreshDriver;
import dev.warmstart.agent.gpu.GpuActivator;
import dev.warmstart.agent.gpu.GpuCompatibility;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpumem.GpuMemoryPayload;
import dev.warmstart.agent.hooks.WorkloadHook;
import dev.warmstart.agent.proc.ProcessTrees;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.restore.GpuMemoryRestore;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.ImageNotFoundException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The second step of a prepared restore (a Warm or Hot standby): the driver copies the tree's GPU
 * memory back (onto the chosen GPUs) and unlocks it, the shim's managed memory comes back, and the
 * post-restore hook runs. A tree whose GPU state cannot come back is killed, as in a full restore:
 * left alone it would hang at its next CUDA call.
 */
public final class ActivationService {
  private final ImageStore store;
  private final Procfs procfs;
  private final GpuCompatibility compatibility;
  private final GpuActivator activator;
  private final GpuMemoryRestore gpuMemory;
  private final WorkloadHook hooks = new WorkloadHook();

  public ActivationService(
      ImageStore store, Procfs procfs, GpuRuntime gpus, FreshDriver freshDriver) {
    this.store = store;
    this.procfs = procfs;
    this.compatibility = new GpuCompatibility(gpus);
    this.activator = new GpuActivator(freshDriver);
    this.gpuMemory = new GpuMemoryRestore(procfs);
  }

  public Map<String, Long> activate(ActivateCommand cmd) throws OperationFailure {
    Timings timings = new Timings();
    long t = System.nanoTime();
    if (!procfs.exists(cmd.rootPid())) {
      throw new OperationFailure(
          ErrorReason.ProcessNotFound,
          "prepared process " + cmd.rootPid() + " is gone: restore the image again");
    }
    Manifest manifest = manifest(cmd.imageName());
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
          ProcessTrees.kill(cmd.rootPid());
        }
        throw e;
      }
    }
    Path imageDir = store.root().resolve(cmd.imageName());
    verifyShimIndex(cmd, imageDir);
    gpuMemory.restore(cmd.rootPid(), imageDir, cmd.timeout(), timings);
    if (cmd.postRestoreHook() != null) {
      t = System.nanoTime();
      hooks.call(cmd.rootPid(), cmd.postRestoreHook(), "post-restore");
      timings.record("postRestoreHook", t);
    }
    return timings.withTotal();
  }

  private Manifest manifest(String imageName) throws OperationFailure {
    try {
      return store.manifest(imageName);
    } catch (ImageNotFoundException e) {
      throw new OperationFailure(ErrorReason.ImageNotFound, e.getMessage(), e);
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.Internal, "reading the manifest: " + e.getMessage(), e);
    }
  }

  /**
   * The shim's payload data is checked piece by piece by the shim against its index: the index must
   * be the one of the image the prepared restore verified.
   */
  private void verifyShimIndex(ActivateCommand cmd, Path imageDir) throws OperationFailure {
    if (!GpuMemoryPayload.present(imageDir)) {
      return;
    }
    try {
      store.verifyFiles(
          cmd.imageName(),
          cmd.imageDigest(),
          p -> p.startsWith(GpuMemoryPayload.DIR + "/") && p.endsWith("/gpumem.index"));
    } catch (ImageIntegrityException | ImageNotFoundException | IOException e) {
      ProcessTrees.kill(cmd.rootPid()); // it must not run without its memory
      throw new OperationFailure(
          ErrorReason.ImageIntegrityFailed,
          "the GPU memory payload cannot be trusted: " + e.getMessage(),
          e);
    }
  }
}
