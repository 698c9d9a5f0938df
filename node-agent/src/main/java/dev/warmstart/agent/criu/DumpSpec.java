package dev.warmstart.agent.criu;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One {@code criu dump}.
 *
 * @param externals values for {@code --external} (namespaces and mounts the tree shares with its
 *     container, restored from the target container instead)
 * @param freezeTimeoutSeconds CRIU's own {@code --timeout} for freezing the tree
 * @param actionScript CRIU's {@code --action-script} (its post-dump step runs while the tree is
 *     still frozen)
 */
public record DumpSpec(
    int pid,
    Path imageDir,
    boolean leaveRunning,
    List<String> externals,
    int freezeTimeoutSeconds,
    Optional<Path> actionScript) {

  public DumpSpec(
      int pid,
      Path imageDir,
      boolean leaveRunning,
      List<String> externals,
      int freezeTimeoutSeconds) {
    this(pid, imageDir, leaveRunning, externals, freezeTimeoutSeconds, Optional.empty());
  }
}
