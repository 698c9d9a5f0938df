package dev.warmstart.agent.checkpoint;

import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.time.Duration;
import java.util.Map;

/**
 * A checkpoint to take now.
 *
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

  public CheckpointCommand(
      ProcessTarget target,
      String imageName,
      boolean leaveRunning,
      Duration timeout,
      Map<String, String> labels,
      HttpHook preCheckpointHook,
      boolean replace) {
    this(target, imageName, leaveRunning, timeout, labels, preCheckpointHook, replace, null);
  }

  public CheckpointCommand(
      ProcessTarget target,
      String imageName,
      boolean leaveRunning,
      Duration timeout,
      Map<String, String> labels) {
    this(target, imageName, leaveRunning, timeout, labels, null, false);
  }

  public CheckpointCommand(
      ProcessTarget target,
      String imageName,
      boolean leaveRunning,
      Duration timeout,
      Map<String, String> labels,
      HttpHook preCheckpointHook) {
    this(target, imageName, leaveRunning, timeout, labels, preCheckpointHook, false);
  }
}
