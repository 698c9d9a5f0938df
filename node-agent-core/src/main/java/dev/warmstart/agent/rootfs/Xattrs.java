package dev.warmstart.agent.rootfs;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Extended attributes of a path itself (not a symlink's target), any namespace: Java's own view
 * reaches only {@code user.*}, and overlayfs marks opaque directories with {@code
 * trusted.overlay.opaque} (or {@code user.overlay.opaque} on userxattr mounts).
 */
final class Xattrs {
  private interface LibC extends Library {
    long lgetxattr(String path, String name, byte[] value, long size);
  }

  private static final LibC C = Native.load("c", LibC.class);

  private Xattrs() {}

  static Optional<String> get(Path path, String name) {
    byte[] buf = new byte[256];
    long n = C.lgetxattr(path.toString(), name, buf, buf.length);
    return n < 0
        ? Optional.empty()
        : Optional.of(new String(buf, 0, (int) n, StandardCharsets.UTF_8));
  }
}
