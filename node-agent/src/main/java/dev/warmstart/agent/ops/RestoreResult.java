package dev.warmstart.agent.ops;

import dev.warmstart.agent.store.StoredImage;
import java.util.Map;

/** A restored tree: its root's host PID, the image it came from, and step timings in ms. */
public record RestoreResult(int pid, StoredImage image, Map<String, Long> timings) {}
