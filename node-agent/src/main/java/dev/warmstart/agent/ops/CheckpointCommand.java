package dev.warmstart.agent.ops;

import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.time.Duration;
import java.util.Map;

/**
 * A checkpoint to take now.
 *
 * @param preCheckpointHook called on the workload before anything is frozen; null for none
 * @param replace replace an image of the same name (once the new one is complete); else refuse
 */
public record CheckpointCommand(
    ProcessTarget target,
    String imageName,
    boolean leaveRunning,
    Duration timeout,
    Map<String, String> labels,
    HttpHook preCheckpointHook,
    boolean replace) {

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
