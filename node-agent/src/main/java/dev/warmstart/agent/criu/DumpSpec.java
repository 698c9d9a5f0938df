package dev.warmstart.agent.criu;

import java.nio.file.Path;
import java.util.List;

/**
 * One {@code criu dump}.
 *
 * @param externals values for {@code --external} (namespaces and mounts the tree shares with its
 *     container, restored from the target container instead)
 * @param freezeTimeoutSeconds CRIU's own {@code --timeout} for freezing the tree
 */
public record DumpSpec(
    int pid,
    Path imageDir,
    boolean leaveRunning,
    List<String> externals,
    int freezeTimeoutSeconds) {}
