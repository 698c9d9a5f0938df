package dev.warmstart.agent.rootfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The overlayfs upper directory behind a process's root mount (containerd's and CRI-O's snapshot of
 * the container's writable layer), as the {@code upperdir=} option in its mountinfo names it.
 */
public final class OverlayRoot {
  private OverlayRoot() {}

  /**
   * The upper directory of the process's root mount, as a path in the mounter's (the host's) mount
   * namespace; empty when the root is not an overlay (e.g. a plain directory bundle).
   */
  public static Optional<Path> upperDir(int pid) throws IOException {
    return upperDir(Files.readAllLines(Path.of("/proc", Integer.toString(pid), "mountinfo")));
  }

  static Optional<Path> upperDir(List<String> mountinfo) {
    String root = null;
    for (String line : mountinfo) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals("/")) {
        root = line; // the last mount on / is the one on top
      }
    }
    if (root == null) {
      return Optional.empty();
    }
    String[] tail = root.substring(root.indexOf(" - ") + 3).split(" ");
    if (tail.length < 3 || !tail[0].equals("overlay")) {
      return Optional.empty();
    }
    // The kernel escapes ',', ' ', '\t', '\n' and '\' in option values as \ooo.
    for (String opt : tail[2].split(",")) {
      if (opt.startsWith("upperdir=")) {
        return Optional.of(Path.of(unescape(opt.substring("upperdir=".length()))));
      }
    }
    return Optional.empty();
  }

  private static String unescape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
