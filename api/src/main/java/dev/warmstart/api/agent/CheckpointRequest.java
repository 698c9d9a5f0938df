package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * Capture a process tree into a named image; built with {@link #builder}.
 *
 * @param imageName store name of the image, unique per node ({@code <namespace>.<checkpoint>})
 * @param leaveRunning keep the workload running after the dump; omitted means true, as the CRD's
 *     default (a request that says nothing never stops a workload)
 * @param labels free metadata recorded in the manifest (pod, namespace, image, node)
 * @param replace replace an existing image of that name once the new one is complete; when false
 *     (the default) the operation fails with {@code ImageExists} before anything is frozen
 * @param exportTo also copy the image, once stored, into this image store on a
 *     PersistentVolumeClaim (its digests checked on the copy); null: node-local only
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointRequest(
    ProcessTarget target,
    String imageName,
    Boolean leaveRunning,
    int timeoutSeconds,
    HttpHook preCheckpointHook,
    Map<String, String> labels,
    boolean replace,
    ImageTransfer exportTo) {

  public CheckpointRequest {
    leaveRunning = leaveRunning == null || leaveRunning;
  }

  /** A checkpoint of {@code target} into {@code imageName}; the builder adds what differs. */
  public static Builder builder(ProcessTarget target, String imageName, int timeoutSeconds) {
    return new Builder(target, imageName, timeoutSeconds);
  }

  /**
   * Builds a {@link CheckpointRequest}. Defaults: leave the workload running, no hook, no labels,
   * refuse an existing image, node-local only.
   */
  public static final class Builder {
    private final ProcessTarget target;
    private final String imageName;
    private final int timeoutSeconds;
    private boolean leaveRunning = true;
    private HttpHook preCheckpointHook;
    private Map<String, String> labels;
    private boolean replace;
    private ImageTransfer exportTo;

    private Builder(ProcessTarget target, String imageName, int timeoutSeconds) {
      this.target = target;
      this.imageName = imageName;
      this.timeoutSeconds = timeoutSeconds;
    }

    public Builder leaveRunning(boolean leaveRunning) {
      this.leaveRunning = leaveRunning;
      return this;
    }

    public Builder preCheckpointHook(HttpHook hook) {
      this.preCheckpointHook = hook;
      return this;
    }

    public Builder labels(Map<String, String> labels) {
      this.labels = labels;
      return this;
    }

    public Builder replace(boolean replace) {
      this.replace = replace;
      return this;
    }

    public Builder exportTo(ImageTransfer exportTo) {
      this.exportTo = exportTo;
      return this;
    }

    public CheckpointRequest build() {
      return new CheckpointRequest(
          target,
          imageName,
          leaveRunning,
          timeoutSeconds,
          preCheckpointHook,
          labels,
          replace,
          exportTo);
    }
  }
}
