package dev.warmstart.agent.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * fsync for files and directories: a rename is durable only once the directory holding it is
 * synced, and a file's data only once the file is; before an old image is deleted, the new one must
 * be on disk.
 */
public final class Durable {
  private Durable() {}

  /** fsyncs a file or a directory (Linux lets a directory be opened for reading and synced). */
  public static void sync(Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** fsyncs every regular file under {@code dir}, then each directory, deepest first. */
  static void syncTree(Path dir) throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.walk(dir)) {
      all = s.toList();
    }
    for (Path p : all) {
      if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        sync(p);
      }
    }
    for (int i = all.size() - 1; i >= 0; i--) {
      if (Files.isDirectory(all.get(i), LinkOption.NOFOLLOW_LINKS)) {
        sync(all.get(i));
      }
    }
  }
}
