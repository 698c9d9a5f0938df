package dev.warmstart.agent.criu;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One CRIU dump.
 *
 * @param externals CRIU's {@code external} objects (namespaces and mounts the tree shares with its
 *     container, restored from the target container instead)
 * @param freezeTimeoutSeconds CRIU's own timeout for freezing the tree
 * @param postDump agent work at CRIU's post-dump point: the images are written and the tree is
 *     still frozen; when it fails, CRIU fails the dump and resumes the tree
 */
public record DumpSpec(
    int pid,
    Path imageDir,
    boolean leaveRunning,
    List<String> externals,
    int freezeTimeoutSeconds,
    Optional<FrozenStep> postDump) {

  /** Work done while CRIU holds the dumped tree frozen. */
  @FunctionalInterface
  public interface FrozenStep {
    void run() throws Exception;
  }

  public DumpSpec(
      int pid,
      Path imageDir,
      boolean leaveRunning,
      List<String> externals,
      int freezeTimeoutSeconds) {
    this(pid, imageDir, leaveRunning, externals, freezeTimeoutSeconds, Optional.empty());
  }
}
