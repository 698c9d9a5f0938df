package dev.warmstart.agent.checkpoint;

import dev.warmstart.api.agent.HttpHook;
import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.agent.ProcessTarget;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * A checkpoint to take now; built with {@link #of}, whose defaults stop the workload, add no
 * labels, call no hook, refuse an existing image and keep the image node-local.
 *
 * @param leaveRunning let the tree run on after the dump; else it ends with the dump
 * @param preCheckpointHook called on the workload before anything is frozen; null for none
 * @param replace replace an image of the same name (once the new one is complete); else refuse
 * @param exportTo also copy the stored image onto a PersistentVolumeClaim; null: node-local only
 */
public record CheckpointCommand(
    ProcessTarget target,
    String imageName,
    boolean leaveRunning,
    Duration timeout,
    Map<String, String> labels,
    HttpHook preCheckpointHook,
    boolean replace,
    ImageTransfer exportTo) {

  public CheckpointCommand {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(imageName, "imageName");
    Objects.requireNonNull(timeout, "timeout");
  }

  /** A checkpoint of {@code target} into {@code imageName}; the builder changes what differs. */
  public static Builder of(ProcessTarget target, String imageName, Duration timeout) {
    return new Builder(target, imageName, timeout);
  }

  /** Builds a {@link CheckpointCommand}; every setting not given keeps its default. */
  public static final class Builder {
    private final ProcessTarget target;
    private final String imageName;
    private final Duration timeout;
    private boolean leaveRunning;
    private Map<String, String> labels = Map.of();
    private HttpHook preCheckpointHook;
    private boolean replace;
    private ImageTransfer exportTo;

    private Builder(ProcessTarget target, String imageName, Duration timeout) {
      this.target = target;
      this.imageName = imageName;
      this.timeout = timeout;
    }

    public Builder leaveRunning(boolean leaveRunning) {
      this.leaveRunning = leaveRunning;
      return this;
    }

    public Builder labels(Map<String, String> labels) {
      this.labels = labels;
      return this;
    }

    public Builder preCheckpointHook(HttpHook hook) {
      this.preCheckpointHook = hook;
      return this;
    }

    public Builder replace(boolean replace) {
      this.replace = replace;
      return this;
    }

    public Builder exportTo(ImageTransfer to) {
      this.exportTo = to;
      return this;
    }

    public CheckpointCommand build() {
      return new CheckpointCommand(
          target, imageName, leaveRunning, timeout, labels, preCheckpointHook, replace, exportTo);
    }
  }
}
