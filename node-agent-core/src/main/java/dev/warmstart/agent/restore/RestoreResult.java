package dev.warmstart.agent.restore;

import dev.warmstart.agent.store.StoredImage;
import java.util.Map;

/**
 * A restored tree: its root's host PID, the image it came from, step timings in ms, and whether its
 * GPU state is still checkpointed (a prepared restore, awaiting activation).
 */
public record RestoreResult(
    int pid, StoredImage image, Map<String, Long> timings, boolean prepared) {}
