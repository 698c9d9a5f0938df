package dev.warmstart.agent.restore;

import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A restore to run now.
 *
 * @param intoContainer running placeholder container to restore into; empty: onto the host
 * @param targetGpus GPU UUIDs to restore onto (a placeholder pod's); empty: chosen by the agent
 * @param stage how far to go: RUN (everything), WARM or HOT (a standby, until {@link
 *     RestoreService#activate})
 * @param postRestoreHook called on the workload once it runs (stage RUN); null for none
 * @param sameGpu refuse unless the target GPUs are the checkpoint's (gpuRemap: SameGpu)
 * @param importFrom copy the image from a PersistentVolumeClaim first; null: node-local
 * @param expectedDigest the image digest the checkpoint recorded ("sha256:..."); an image with
 *     another digest is refused (ImageIntegrityFailed); null: any verified image of that name
 */
public record RestoreCommand(
    String imageName,
    Optional<String> intoContainer,
    List<String> targetGpus,
    Stage stage,
    Duration timeout,
    HttpHook postRestoreHook,
    boolean sameGpu,
    ImageTransfer importFrom,
    String expectedDigest) {

  public RestoreCommand(
      String imageName,
      Optional<String> intoContainer,
      List<String> targetGpus,
      Stage stage,
      Duration timeout,
      HttpHook postRestoreHook,
      boolean sameGpu) {
    this(
        imageName, intoContainer, targetGpus, stage, timeout, postRestoreHook, sameGpu, null, null);
  }

  public RestoreCommand(
      String imageName,
      Optional<String> intoContainer,
      List<String> targetGpus,
      Stage stage,
      Duration timeout,
      HttpHook postRestoreHook) {
    this(imageName, intoContainer, targetGpus, stage, timeout, postRestoreHook, false);
  }

  public RestoreCommand(
      String imageName,
      Optional<String> intoContainer,
      List<String> targetGpus,
      Stage stage,
      Duration timeout) {
    this(imageName, intoContainer, targetGpus, stage, timeout, null);
  }

  /** Where a restore stops. */
  public enum Stage {
    /** CRIU and GPU: the process runs. */
    RUN,
    /** CRIU only: the process exists with its CUDA state checkpointed, holding no GPU memory. */
    WARM,
    /** CRIU and the GPU memory copy, the process kept locked: activation is only the unlock. */
    HOT
  }

  public RestoreCommand(
      String imageName,
      Optional<String> intoContainer,
      List<String> targetGpus,
      boolean prepareOnly,
      Duration timeout) {
    this(imageName, intoContainer, targetGpus, prepareOnly ? Stage.WARM : Stage.RUN, timeout);
  }

  public static RestoreCommand full(String imageName, Optional<String> into, Duration timeout) {
    return new RestoreCommand(imageName, into, List.of(), Stage.RUN, timeout);
  }

  public boolean prepareOnly() {
    return stage != Stage.RUN;
  }
}
