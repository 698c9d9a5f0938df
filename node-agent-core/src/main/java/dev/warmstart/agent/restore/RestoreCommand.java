package dev.warmstart.agent.restore;

import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A restore to run now; built with {@link #of}, whose defaults are a full restore on the host onto
 * GPUs the agent chooses.
 *
 * @param intoContainer running placeholder container to restore into; empty: onto the host
 * @param targetGpus GPU UUIDs to restore onto (a placeholder pod's); empty: chosen by the agent
 * @param stage how far to go: RUN (everything), WARM or HOT (a standby, until an activation)
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

  public RestoreCommand {
    Objects.requireNonNull(imageName, "imageName");
    Objects.requireNonNull(intoContainer, "intoContainer");
    Objects.requireNonNull(targetGpus, "targetGpus");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(timeout, "timeout");
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

  /** A full restore of {@code imageName} on the host; the builder changes what differs. */
  public static Builder of(String imageName, Duration timeout) {
    return new Builder(imageName, timeout);
  }

  public boolean prepareOnly() {
    return stage != Stage.RUN;
  }

  /** Builds a {@link RestoreCommand}; every setting not given keeps its default. */
  public static final class Builder {
    private final String imageName;
    private final Duration timeout;
    private Optional<String> intoContainer = Optional.empty();
    private List<String> targetGpus = List.of();
    private Stage stage = Stage.RUN;
    private HttpHook postRestoreHook;
    private boolean sameGpu;
    private ImageTransfer importFrom;
    private String expectedDigest;

    private Builder(String imageName, Duration timeout) {
      this.imageName = imageName;
      this.timeout = timeout;
    }

    public Builder intoContainer(Optional<String> containerId) {
      this.intoContainer = containerId;
      return this;
    }

    public Builder intoContainer(String containerId) {
      return intoContainer(Optional.of(containerId));
    }

    public Builder targetGpus(List<String> uuids) {
      this.targetGpus = uuids == null ? List.of() : uuids;
      return this;
    }

    public Builder stage(Stage stage) {
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

    public Builder expectedDigest(String digest) {
      this.expectedDigest = digest;
      return this;
    }

    public RestoreCommand build() {
      return new RestoreCommand(
          imageName,
          intoContainer,
          targetGpus,
          stage,
          timeout,
          postRestoreHook,
          sameGpu,
          importFrom,
          expectedDigest);
    }
  }
}
