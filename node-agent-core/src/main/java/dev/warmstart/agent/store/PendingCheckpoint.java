package dev.warmstart.agent.store;

/**
 * What an agent checkpoint writes beside its staging directory before CRIU starts, so that after an
 * agent crash recovery can tell whose the staged image is, which tree it froze, and commit a
 * complete one with the manifest it would have had.
 *
 * @param operationId the agent operation that stages it
 * @param manifest the image's manifest without its files, size and timings
 */
public record PendingCheckpoint(
    String operationId,
    String imageName,
    boolean replace,
    boolean leaveRunning,
    Manifest manifest) {}
