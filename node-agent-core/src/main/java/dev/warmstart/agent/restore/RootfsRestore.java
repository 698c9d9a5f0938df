package dev.warmstart.agent.restore;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.rootfs.FileStamps;
import dev.warmstart.agent.rootfs.LayerArchive;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The file system a restored tree expects, before CRIU runs: the files it had open outside the
 * image are checked unchanged (else {@code FileChanged}, nothing started), then the container's
 * writable layer is laid onto the placeholder's root filesystem.
 */
final class RootfsRestore {
  private RootfsRestore() {}

  /**
   * @param files the image's verified files (the restore's view of them, not the store directory,
   *     which can change after verification)
   */
  static void prepare(
      StoredImage image, Path files, Optional<Path> root, Optional<ContainerRef> target)
      throws OperationFailure {
    Manifest m = image.manifest();
    FileStamps.check(
        m.externalFiles(),
        s -> {
          if (target.isEmpty()) {
            return Optional.of(Path.of(s.path()));
          }
          if (s.mountPoint() == null || s.mountPoint().equals("/")) {
            return root.map(r -> r.resolve(s.path().substring(1)));
          }
          String rest = s.path().substring(s.mountPoint().length());
          return target.get().sourceOf(s.mountPoint()).map(src -> Path.of(src + rest));
        });
    Manifest.WritableLayer layer = m.writableLayer();
    if (layer == null || layer.archive() == null) {
      return;
    }
    if (root.isEmpty()) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "image '"
              + image.name()
              + "' carries a container's writable layer: restore it into a"
              + " placeholder container");
    }
    try {
      LayerArchive.apply(files.resolve(layer.archive()), root.get());
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.Internal,
          "laying the writable layer onto " + root.get() + " failed: " + e.getMessage(),
          e);
    }
  }
}
