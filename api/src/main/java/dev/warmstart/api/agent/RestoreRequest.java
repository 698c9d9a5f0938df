package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.util.List;

/**
 * Restore a named image, either as a fresh tree on the host or into a running placeholder container
 * ({@code intoContainerId}), whose GPUs are {@code targetGpuUuids}.
 *
 * @param prepareOnly stop after CRIU's part: the tree runs with its CUDA state checkpointed (no GPU
 *     memory held) until an ACTIVATE operation names this one (a Warm standby)
 * @param keepLocked with prepareOnly: also copy the GPU memory back but keep the process locked (a
 *     Hot standby, whose activation is only the unlock)
 * @param postRestoreHook called on the workload once it runs (after the restore, or after the
 *     activation of a standby), e.g. to warm it up; a failure fails the operation (HookFailed)
 * @param sameGpu refuse (IncompatibleGpu) unless the target GPUs are the very GPUs of the
 *     checkpoint: no UUID remap (GpuRestore gpuRemap: SameGpu); also holds for the activation
 * @param importFrom first copy the image from this image store on a PersistentVolumeClaim into the
 *     node's store (skipped when the node already holds it with that digest; every file's digest
 *     checked on the copy); null: the image is node-local
 * @param expectedImageDigest the image's manifest digest as the checkpoint recorded it
 *     ("sha256:..."); the agent refuses to restore an image of that name with another digest
 *     (ImageIntegrityFailed): it was replaced or is another checkpoint's. Null: not checked
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RestoreRequest(
    String imageName,
    String intoContainerId,
    List<String> targetGpuUuids,
    int timeoutSeconds,
    Boolean prepareOnly,
    Boolean keepLocked,
    HttpHook postRestoreHook,
    Boolean sameGpu,
    ImageTransfer importFrom,
    String expectedImageDigest) {

  public boolean hot() {
    return prepared() && Boolean.TRUE.equals(keepLocked);
  }

  public boolean requiresSameGpu() {
    return Boolean.TRUE.equals(sameGpu);
  }

  public boolean prepared() {
    return Boolean.TRUE.equals(prepareOnly);
  }
}
