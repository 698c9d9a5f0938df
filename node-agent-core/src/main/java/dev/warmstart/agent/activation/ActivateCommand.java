package dev.warmstart.agent.activation;

import dev.warmstart.api.agent.HttpHook;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Bring back the GPU state of a prepared restore; built with {@link #of}.
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

  public ActivateCommand {
    Objects.requireNonNull(imageName, "imageName");
    Objects.requireNonNull(targetGpus, "targetGpus");
    Objects.requireNonNull(timeout, "timeout");
  }

  /** Activates the standby {@code rootPid}; the builder adds what differs from the defaults. */
  public static Builder of(int rootPid, String imageName, Duration timeout) {
    return new Builder(rootPid, imageName, timeout);
  }

  /** Builds an {@link ActivateCommand}; every setting not given keeps its default. */
  public static final class Builder {
    private final int rootPid;
    private final String imageName;
    private final Duration timeout;
    private List<String> targetGpus = List.of();
    private HttpHook postRestoreHook;
    private boolean sameGpu;
    private String imageDigest;

    private Builder(int rootPid, String imageName, Duration timeout) {
      this.rootPid = rootPid;
      this.imageName = imageName;
      this.timeout = timeout;
    }

    public Builder targetGpus(List<String> uuids) {
      this.targetGpus = uuids == null ? List.of() : uuids;
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

    public Builder imageDigest(String digest) {
      this.imageDigest = digest;
      return this;
    }

    public ActivateCommand build() {
      return new ActivateCommand(
          rootPid, imageName, targetGpus, timeout, postRestoreHook, sameGpu, imageDigest);
    }
  }
}
