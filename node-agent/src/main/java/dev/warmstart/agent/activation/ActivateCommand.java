package dev.warmstart.agent.activation;

import dev.warmstart.api.v1alpha1.HttpHook;
import java.time.Duration;
import java.util.List;

/**
 * Bring back the GPU state of a prepared restore.
 *
 * @param rootPid host PID of the restored tree's root
 * @param imageName the image it was restored from (its GPU record decides the remap)
 * @param targetGpus GPU UUIDs to restore onto; empty: chosen by the agent
 * @param postRestoreHook called on the workload once it runs; null for none
 * @param sameGpu refuse unless the target GPUs are the checkpoint's (gpuRemap: SameGpu)
 * @param imageDigest the manifest digest the prepared restore verified; files read at activation
 *     (the GPU memory shim's payload index) are checked against that manifest; null: not compared
 */
public record ActivateCommand(
    int rootPid,
    String imageName,
    List<String> targetGpus,
    Duration timeout,
    HttpHook postRestoreHook,
    boolean sameGpu,
    String imageDigest) {

  public ActivateCommand(
      int rootPid,
      String imageName,
      List<String> targetGpus,
      Duration timeout,
      HttpHook postRestoreHook,
      boolean sameGpu) {
    this(rootPid, imageName, targetGpus, timeout, postRestoreHook, sameGpu, null);
  }

  public ActivateCommand(
      int rootPid,
      String imageName,
      List<String> targetGpus,
      Duration timeout,
      HttpHook postRestoreHook) {
    this(rootPid, imageName, targetGpus, timeout, postRestoreHook, false);
  }

  public ActivateCommand(int rootPid, String imageName, List<String> targetGpus, Duration timeout) {
    this(rootPid, imageName, targetGpus, timeout, null);
  }
}
