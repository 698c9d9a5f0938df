package dev.warmstart.agent.store;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Directory renames with renameat2(2), so that an image name never points at nothing: a new image
 * goes in only if the name is free (RENAME_NOREPLACE), or swaps places with the old one in one step
 * (RENAME_EXCHANGE).
 */
final class Renames {
  private static final int AT_FDCWD = -100;
  private static final int RENAME_NOREPLACE = 1;
  private static final int RENAME_EXCHANGE = 2;
  private static final int EEXIST = 17;
  private static final int ENOTEMPTY = 39;
  private static final int EINVAL = 22;
  private static final int ENOSYS = 38;

  interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int renameat2(int olddirfd, String oldpath, int newdirfd, String newpath, int flags)
        throws LastErrorException;
  }

  /** What the file system answered. */
  enum Result {
    DONE,
    TARGET_EXISTS,
    /** The file system cannot do this rename atomically (e.g. NFS); the caller falls back. */
    UNSUPPORTED
  }

  private Renames() {}

  static Result noReplace(Path from, Path to) throws IOException {
    return rename(from, to, RENAME_NOREPLACE);
  }

  static Result exchange(Path a, Path b) throws IOException {
    return rename(a, b, RENAME_EXCHANGE);
  }

  private static Result rename(Path from, Path to, int flags) throws IOException {
    try {
      LibC.INSTANCE.renameat2(AT_FDCWD, from.toString(), AT_FDCWD, to.toString(), flags);
      return Result.DONE;
    } catch (LastErrorException e) {
      return switch (e.getErrorCode()) {
        case EEXIST, ENOTEMPTY -> Result.TARGET_EXISTS;
        case EINVAL, ENOSYS -> Result.UNSUPPORTED;
        default ->
            throw new IOException(
                "cannot rename " + from + " to " + to + ": errno " + e.getErrorCode(), e);
      };
    } catch (UnsatisfiedLinkError e) {
      return Result.UNSUPPORTED; // a libc older than 2.28
    }
  }
}
