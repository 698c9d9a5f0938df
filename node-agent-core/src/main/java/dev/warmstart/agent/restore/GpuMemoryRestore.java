package dev.warmstart.agent.restore;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Timings;
import dev.warmstart.agent.gpumem.GpuMemoryPayload;
import dev.warmstart.agent.proc.ProcessTrees;
import dev.warmstart.agent.proc.Procfs;
import java.nio.file.Path;
import java.time.Duration;

/**
 * With the driver's part done and the tree let run, the managed GPU memory of shim processes
 * (gpu-shim/) comes back; their CUDA calls wait at the shim's gate until then. A tree that cannot
 * get it back is killed: it must not run without its memory. Last step of a full restore and of an
 * activation.
 */
public final class GpuMemoryRestore {
  private final Procfs procfs;
  private final GpuMemoryPayload gpuMemory;

  public GpuMemoryRestore(Procfs procfs) {
    this.procfs = procfs;
    this.gpuMemory = new GpuMemoryPayload(procfs);
  }

  public void restore(int rootPid, Path imageDir, Duration timeout, Timings timings)
      throws OperationFailure {
    long t = System.nanoTime();
    try {
      gpuMemory.restore(procfs.tree(rootPid), imageDir, timeout);
    } catch (OperationFailure e) {
      ProcessTrees.kill(rootPid);
      throw e;
    }
    if (GpuMemoryPayload.present(imageDir)) {
      timings.record("gpuMemoryRestore", t);
    }
  }
}
