package dev.warmstart.agent.restore;

import dev.warmstart.api.agent.HttpHook;
import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.agent.RestoreStage;
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
 * @param stage how far to go: RUNNING (everything), or PROCESSES or GPU_LOCKED (a standby, until an
 *     activation)
 * @param postRestoreHook called on the workload once it runs (stage RUNNING); null for none
 * @param sameGpu refuse unless the target GPUs are the checkpoint's (gpuRemap: SameGpu)
 * @param importFrom copy the image from a PersistentVolumeClaim first; null: node-local
 * @param expectedDigest the image digest the checkpoint recorded ("sha256:..."); an image with
 *     another digest is refused (ImageIntegrityFailed); null: any verified image of that name
 */
public record RestoreCommand(
    String imageName,
    Optional<String> intoContainer,
    List<String> targetGpus,
    RestoreStage stage,
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

  /** A full restore of {@code imageName} on the host; the builder changes what differs. */
  public static Builder of(String imageName, Duration timeout) {
    return new Builder(imageName, timeout);
  }

  /** A standby: the restore stops short of running, until an activation. */
  public boolean standby() {
    return stage.standby();
  }

  /** Builds a {@link RestoreCommand}; every setting not given keeps its default. */
  public static final class Builder {
    private final String imageName;
    private final Duration timeout;
    private Optional<String> intoContainer = Optional.empty();
    private List<String> targetGpus = List.of();
    private RestoreStage stage = RestoreStage.RUNNING;
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
