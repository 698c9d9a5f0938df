package dev.warmstart.agent.metrics;

import dev.warmstart.api.agent.StoreUsage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * How full the node's image store is: the filesystem's size and usable space (java.nio FileStore,
 * i.e. statvfs, so space reserved for root does not count as free) and the bytes of the store's own
 * files. Read on every call: a scrape or a schedule's check sees the disk as it is.
 */
public final class StoreUsageProbe {
  private final Path root;
  private final String node;

  public StoreUsageProbe(Path root, String node) {
    this.root = root;
    this.node = node;
  }

  public StoreUsage read() {
    try {
      FileStore fs = Files.getFileStore(root);
      return new StoreUsage(node, fs.getTotalSpace(), fs.getUsableSpace(), filesBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the image store at " + root, e);
    }
  }

  private long filesBytes() throws IOException {
    long[] sum = {0};
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (attrs.isRegularFile()) {
              sum[0] += attrs.size();
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE; // removed while walking (a commit or a delete)
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) {
            return FileVisitResult.CONTINUE; // a directory swept or renamed while walking
          }
        });
    return sum[0];
  }
}
