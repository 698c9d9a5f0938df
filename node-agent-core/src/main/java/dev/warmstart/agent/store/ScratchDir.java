package dev.warmstart.agent.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A private directory (a staged image, a restore's work files) that lives as long as the work using
 * it. A lock on the sibling file {@code <dir>.lock} says its owner is alive; the kernel drops the
 * lock when the owner dies, however it dies, so {@link #sweep} can tell a dead process's leftovers
 * (an interrupted checkpoint's full-size staging copy) from another process's work in progress: the
 * agent and the CLI may share one store.
 */
public final class ScratchDir implements AutoCloseable {
  private static final Set<PosixFilePermission> DIR_MODE =
      PosixFilePermissions.fromString("rwx------");
  private static final String LOCK = ".lock";

  /** A sibling file that says an agent operation can recover this directory (ImageStore). */
  static final String PENDING = ".pending";

  /**
   * Lock files this JVM holds. Locks belong to the process, and closing any channel on a file drops
   * them all, so a sweep must never even open one of these.
   */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final Path lockFile;
  private final FileChannel channel;

  private ScratchDir(Path dir, Path lockFile, FileChannel channel) {
    this.dir = dir;
    this.lockFile = lockFile;
    this.channel = channel;
  }

  /** Creates {@code parent/<prefix><uuid>} (0700), locked first so no sweep takes it. */
  static ScratchDir create(Path parent, String prefix) throws IOException {
    Path dir = parent.resolve(prefix + UUID.randomUUID());
    Path lockFile = parent.resolve(dir.getFileName() + LOCK);
    FileChannel ch =
        FileChannel.open(
            lockFile,
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    HELD.add(lockFile);
    try {
      ch.lock();
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
    } catch (IOException | RuntimeException e) {
      HELD.remove(lockFile);
      ch.close();
      Files.deleteIfExists(lockFile);
      throw e;
    }
    return new ScratchDir(dir, lockFile, ch);
  }

  public Path dir() {
    return dir;
  }

  /** Deletes the directory (if it was not moved away) and then the lock. */
  @Override
  public void close() throws IOException {
    try {
      ImageStore.deleteTree(dir);
      Files.deleteIfExists(pendingOf(dir));
    } finally {
      Files.deleteIfExists(lockFile);
      HELD.remove(lockFile);
      channel.close();
    }
  }

  static Path pendingOf(Path dir) {
    return dir.resolveSibling(dir.getFileName() + PENDING);
  }

  /**
   * Takes over a dead process's directory (its lock is free): for recovery, which then commits or
   * removes it.
   */
  static ScratchDir adopt(Path dir) throws IOException {
    Path lockFile = dir.resolveSibling(dir.getFileName() + LOCK);
    FileChannel ch =
        FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE));
    FileLock l = ch.tryLock();
    if (l == null) {
      ch.close();
      throw new IOException(dir + " is in use");
    }
    HELD.add(lockFile);
    return new ScratchDir(dir, lockFile, ch);
  }

  /** What to save from a dead process's directory before it is removed. */
  interface Salvage {
    void from(Path staleDir) throws IOException;
  }

  /** Which dead process's directories to leave for their owner's recovery. */
  interface Keep {
    boolean test(Path staleDir);
  }

  static int sweep(Path parent, Salvage salvage) throws IOException {
    return sweep(parent, salvage, d -> false);
  }

  /**
   * Removes what dead processes left in {@code parent}: directories whose lock is free or gone, and
   * lock files without an owner.
   *
   * @return how many directories were removed
   */
  static int sweep(Path parent, Salvage salvage, Keep keep) throws IOException {
    int removed = 0;
    try (Stream<Path> s = Files.list(parent)) {
      for (Path p : s.sorted().toList()) {
        String name = p.getFileName().toString();
        if (name.endsWith(LOCK)) {
          Path dir = parent.resolve(name.substring(0, name.length() - LOCK.length()));
          if (!HELD.contains(p) && lockIsFree(p)) {
            if (keep.test(dir)) {
              continue;
            }
            if (Files.exists(dir)) {
              salvage.from(dir);
              ImageStore.deleteTree(dir);
              Files.deleteIfExists(pendingOf(dir));
              removed++;
            }
            Files.deleteIfExists(p);
          }
        } else if (name.endsWith(PENDING)) {
          Path dir = parent.resolve(name.substring(0, name.length() - PENDING.length()));
          if (!Files.exists(dir) && !Files.exists(parent.resolve(dir.getFileName() + LOCK))) {
            Files.deleteIfExists(p); // its directory is gone
          }
        } else if (!Files.exists(parent.resolve(name + LOCK)) && !keep.test(p)) {
          // A directory with no lock file: its owner died before this version locked, or between
          // deleting it and its lock. Either way nobody works in it.
          salvage.from(p);
          ImageStore.deleteTree(p);
          Files.deleteIfExists(pendingOf(p));
          removed++;
        }
      }
    }
    return removed;
  }

  private static boolean lockIsFree(Path lockFile) throws IOException {
    try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock l = ch.tryLock();
      if (l == null) {
        return false;
      }
      l.release();
      return true;
    } catch (NoSuchFileException e) {
      return false; // its owner finished meanwhile
    } catch (OverlappingFileLockException e) {
      return false;
    }
  }
}
