package dev.warmstart.agent.operation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The transparent huge page policy while checkpoints and restores run (e.g. "always" on dedicated
 * GPU nodes: CRIU's page restore and the driver's copies of a 16 GiB server ran ~30% faster). The
 * node's own policy is saved to a marker file before it is changed and written back when the last
 * operation ends, after an error too, and at the next start if the agent died in between: the node
 * is never left changed.
 */
public final class HugePages {
  private static final Logger LOG = Logger.getLogger(HugePages.class);
  private static final Pattern SELECTED = Pattern.compile("\\[(\\w+)]");

  private final Optional<String> policy;
  private final Path sysfs;
  private final Path marker;
  private int active;

  /**
   * @param policy the policy to apply during operations; empty: leave the node's as it is
   * @param sysfs /sys/kernel/mm/transparent_hugepage/enabled
   * @param marker where the node's own policy is kept while changed
   */
  public HugePages(Optional<String> policy, Path sysfs, Path marker) {
    policy.ifPresent(
        p -> {
          if (!p.matches("always|madvise|never")) {
            throw new IllegalArgumentException(
                "THP policy must be always, madvise or never, was " + p);
          }
        });
    this.policy = policy;
    this.sysfs = sysfs;
    this.marker = marker;
  }

  /** Puts back a policy a crashed agent left changed. */
  public synchronized void recover() throws IOException {
    if (Files.exists(marker)) {
      String original = Files.readString(marker).strip();
      Files.writeString(sysfs, original);
      Files.delete(marker);
      LOG.infof("restored THP policy '%s' left changed by an earlier run", original);
    }
  }

  /** Applies the policy for one operation; closing the result ends it. */
  public synchronized AutoCloseable during() throws IOException {
    if (policy.isEmpty()) {
      return () -> {};
    }
    if (active == 0) {
      String current = selected(Files.readString(sysfs));
      if (!current.equals(policy.get())) {
        Path tmp = marker.resolveSibling(marker.getFileName() + ".tmp");
        Files.createDirectories(marker.getParent());
        Files.writeString(tmp, current, StandardCharsets.UTF_8);
        Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(sysfs, policy.get());
      }
    }
    active++;
    return this::end;
  }

  private synchronized void end() throws IOException {
    active--;
    if (active == 0) {
      recover();
    }
  }

  static String selected(String sysfsContent) {
    Matcher m = SELECTED.matcher(sysfsContent);
    return m.find() ? m.group(1) : sysfsContent.strip();
  }
}
