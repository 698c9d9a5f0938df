package dev.warmstart.agent.ops;

import dev.warmstart.api.agent.ProcessTarget;
import java.time.Duration;
import java.util.Map;

/** A checkpoint to take now. */
public record CheckpointCommand(
    ProcessTarget target,
    String imageName,
    boolean leaveRunning,
    Duration timeout,
    Map<String, String> labels) {}
