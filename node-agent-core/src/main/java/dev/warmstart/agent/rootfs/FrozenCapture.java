package dev.warmstart.agent.rootfs;

import dev.warmstart.agent.store.Manifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a checkpoint takes of the file system while CRIU holds the tree frozen (run from a {@link
 * PostDumpGate}): a container's writable layer into the image, then stamps of the open files the
 * image does not carry.
 */
public final class FrozenCapture implements PostDumpGate.FrozenWork {
  private final Manifest.Source source;
  private final boolean container;
  private final Optional<Path> upperDir;
  private final Path imageDir;
  private final LayerSettings settings;
  private Manifest.WritableLayer layer;
  private List<Manifest.FileStamp> stamps;
  private long millis;

  private FrozenCapture(
      Manifest.Source source,
      boolean container,
      Optional<Path> upperDir,
      Path imageDir,
      LayerSettings settings) {
    this.source = source;
    this.container = container;
    this.upperDir = upperDir;
    this.imageDir = imageDir;
    this.settings = settings;
  }

  /**
   * Prepares the capture of the tree {@code source} describes (its mountinfo is read now, before
   * anything is frozen). The upper directory is read at its host path: the agent's DaemonSet mounts
   * containerd's root directory, where its overlayfs snapshots live, at the same path.
   */
  public static FrozenCapture prepare(Manifest.Source source, Path imageDir, LayerSettings settings)
      throws IOException {
    boolean container = !"host".equals(source.pidNamespace()) || !source.mounts().isEmpty();
    Optional<Path> upper = container ? OverlayRoot.upperDir(source.pid()) : Optional.empty();
    return new FrozenCapture(source, container, upper, imageDir, settings);
  }

  @Override
  public void run() throws IOException, LayerTooLargeException {
    long t = System.nanoTime();
    Set<String> captured = new HashSet<>();
    if (container) {
      if (upperDir.isPresent()) {
        layer =
            LayerArchive.capture(
                upperDir.get(), imageDir.resolve(LayerArchive.FILE_NAME), settings);
        layer.entries().forEach(e -> captured.add(e.path()));
      } else {
        layer = LayerArchive.skipped("the container's root file system is not an overlay");
      }
      Set<String> volumes = new HashSet<>();
      source.mounts().stream()
          .filter(m -> m.kind().equals("volume"))
          .forEach(m -> volumes.add(m.mountPoint()));
      stamps =
          FileStamps.record(
              source.processes(), FileStamps.mountPoints(source.pid()), volumes, captured);
    } else {
      stamps = FileStamps.record(source.processes(), null, Set.of(), captured);
    }
    millis = (System.nanoTime() - t) / 1_000_000;
  }

  /** The layer (null for a host tree, or when the work did not run). */
  public Manifest.WritableLayer layer() {
    return layer;
  }

  public List<Manifest.FileStamp> stamps() {
    return stamps;
  }

  public long millis() {
    return millis;
  }
}
