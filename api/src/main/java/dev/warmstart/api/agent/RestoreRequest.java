package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Restore a named image, either as a fresh tree on the host or into a running placeholder container
 * ({@code intoContainerId}), whose GPUs are {@code targetGpuUuids}; built with {@link #builder}.
 *
 * @param stage how far the restore goes; omitted means {@link RestoreStage#RUNNING}. Short of it,
 *     the restore is a standby that an ACTIVATE operation naming this one finishes
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
    RestoreStage stage,
    HttpHook postRestoreHook,
    Boolean sameGpu,
    ImageTransfer importFrom,
    String expectedImageDigest) {

  public RestoreRequest {
    stage = stage == null ? RestoreStage.RUNNING : stage;
  }

  /** A full restore of {@code imageName} on the host; the builder adds what differs. */
  public static Builder builder(String imageName, int timeoutSeconds) {
    return new Builder(imageName, timeoutSeconds);
  }

  public boolean requiresSameGpu() {
    return Boolean.TRUE.equals(sameGpu);
  }

  /** Builds a {@link RestoreRequest}; a setting not given keeps its default (absent). */
  public static final class Builder {
    private final String imageName;
    private final int timeoutSeconds;
    private String intoContainerId;
    private List<String> targetGpuUuids;
    private RestoreStage stage = RestoreStage.RUNNING;
    private HttpHook postRestoreHook;
    private boolean sameGpu;
    private ImageTransfer importFrom;
    private String expectedImageDigest;

    private Builder(String imageName, int timeoutSeconds) {
      this.imageName = imageName;
      this.timeoutSeconds = timeoutSeconds;
    }

    public Builder intoContainerId(String containerId) {
      this.intoContainerId = containerId;
      return this;
    }

    public Builder targetGpuUuids(List<String> uuids) {
      this.targetGpuUuids = uuids;
      return this;
    }

    public Builder stage(RestoreStage stage) {
      this.stage = stage;
      return this;
    }

    public Builder postRestoreHook(HttpHook hook) {
      this.postRestoreHook = hook;
      return this;
    }

    public Builder sameGpu(boolean sameGpu) {
      this.sameGpu = sameGpu;
      return this;
    }

    public Builder importFrom(ImageTransfer from) {
      this.importFrom = from;
      return this;
    }

    public Builder expectedImageDigest(String digest) {
      this.expectedImageDigest = digest;
      return this;
    }

    public RestoreRequest build() {
      return new RestoreRequest(
          imageName,
          intoContainerId,
          targetGpuUuids,
          timeoutSeconds,
          stage,
          postRestoreHook,
          sameGpu ? true : null,
          importFrom,
          expectedImageDigest);
    }
  }
}
