package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.util.Map;

/**
 * Capture a process tree into a named image.
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

  public CheckpointRequest(
      ProcessTarget target,
      String imageName,
      boolean leaveRunning,
      int timeoutSeconds,
      HttpHook preCheckpointHook,
      Map<String, String> labels,
      boolean replace) {
    this(target, imageName, leaveRunning, timeoutSeconds, preCheckpointHook, labels, replace, null);
  }

  public CheckpointRequest {
    leaveRunning = leaveRunning == null || leaveRunning;
  }

  /** A request that refuses to replace an existing image. */
  public CheckpointRequest(
      ProcessTarget target,
      String imageName,
      boolean leaveRunning,
      int timeoutSeconds,
      HttpHook preCheckpointHook,
      Map<String, String> labels) {
    this(target, imageName, leaveRunning, timeoutSeconds, preCheckpointHook, labels, false);
  }
}
