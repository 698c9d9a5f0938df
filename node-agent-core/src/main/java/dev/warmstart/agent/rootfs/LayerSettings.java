package dev.warmstart.agent.rootfs;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * What of a container's writable layer a checkpoint carries.
 *
 * @param maxBytes a layer whose regular files add up to more fails the checkpoint (nothing is
 *     silently left out: a missing file would fail the restore later, or worse, not)
 * @param exclude glob patterns over paths inside the container (e.g. {@code /tmp/**}); matching
 *     files and directories are not captured, and the restore takes them from the placeholder's
 *     image as it is
 */
public record LayerSettings(long maxBytes, List<String> exclude) {
  public static final long DEFAULT_MAX_BYTES = 4L << 30;
  public static final LayerSettings DEFAULT = new LayerSettings(DEFAULT_MAX_BYTES, List.of());

  public LayerSettings {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("writable layer limit must be >= 0, not " + maxBytes);
    }
    exclude = List.copyOf(exclude);
    exclude.forEach(LayerSettings::matcher); // a bad pattern fails at startup, not at checkpoint
  }

  /** Whether the container path (absolute, e.g. /tmp/x) is excluded. */
  boolean excluded(String containerPath) {
    Path p = Path.of(containerPath);
    return exclude.stream().anyMatch(g -> matcher(g).matches(p));
  }

  private static PathMatcher matcher(String glob) {
    return FileSystems.getDefault().getPathMatcher("glob:" + glob);
  }
}
