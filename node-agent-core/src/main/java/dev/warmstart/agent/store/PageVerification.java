package dev.warmstart.agent.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The digests of an image's page files, checked in the background while CRIU restores from them.
 * The page files are only copied into the restored process's memory, never parsed, so CRIU may read
 * them before they are proven; the process must not run before {@link #awaitVerified} returns.
 *
 * <p>What CRIU read is what was hashed: each file's identity (device, inode, size, modification
 * time) is taken before hashing starts and checked again once CRIU has read the pages, so a file
 * replaced or written in between fails the check.
 */
public final class PageVerification {
  private final String image;
  private final Map<Path, Identity> identities;
  private final CompletableFuture<Void> digests;
  private final long startNanos = System.nanoTime();
  private volatile long hashedNanos;

  private record Identity(Object fileKey, long size, FileTime changed) {
    static Identity of(Path f) throws IOException {
      BasicFileAttributes a =
          Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!a.isRegularFile()) {
        throw new IOException(f.getFileName() + " is not a regular file");
      }
      // The modification time, not the change time: a restore reads hard links of the image's
      // files (ImageStore#openForRestore), and a rename or delete in the store changes their link
      // count and so their change time, not their content. Any write changes the modification time.
      return new Identity(a.fileKey(), a.size(), a.lastModifiedTime());
    }
  }

  private PageVerification(
      String image, Map<Path, Identity> identities, CompletableFuture<Void> digests) {
    this.image = image;
    this.identities = identities;
    this.digests = digests;
  }

  /** Starts hashing {@code entries} (files under {@code dir}) on the digest pool. */
  static PageVerification start(String image, Path dir, List<Manifest.FileEntry> entries)
      throws IOException {
    Map<Path, Identity> ids = new LinkedHashMap<>();
    for (Manifest.FileEntry e : entries) {
      Path f = dir.resolve(e.path());
      ids.put(f, Identity.of(f));
    }
    CompletableFuture<Void> digests = new CompletableFuture<>();
    PageVerification v = new PageVerification(image, ids, digests);
    Thread t =
        new Thread(
            () -> {
              try {
                ImageDigests.verify(image, dir, entries);
                v.hashedNanos = System.nanoTime();
                digests.complete(null);
              } catch (Throwable e) {
                digests.completeExceptionally(e);
              }
            },
            "verify-" + image);
    t.setDaemon(true);
    t.start();
    return v;
  }

  /** Already proven: nothing to wait for. */
  static PageVerification none(String image) {
    return new PageVerification(image, Map.of(), CompletableFuture.completedFuture(null));
  }

  /**
   * Waits for the digests, then checks that no page file changed since hashing began.
   *
   * @throws ImageIntegrityException a page file does not match its digest or was replaced
   */
  public void awaitVerified(Duration timeout) throws ImageIntegrityException, IOException {
    try {
      digests.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while verifying image '" + image + "'", e);
    } catch (TimeoutException e) {
      throw new IOException("image '" + image + "' was not verified within " + timeout);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ImageIntegrityException bad) {
        throw bad;
      }
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("verifying image '" + image + "': " + e.getCause(), e.getCause());
    }
    for (Map.Entry<Path, Identity> e : identities.entrySet()) {
      Identity now;
      try {
        now = Identity.of(e.getKey());
      } catch (IOException gone) {
        now = null;
      }
      if (!e.getValue().equals(now)) {
        throw new ImageIntegrityException(
            "image '"
                + image
                + "': file "
                + e.getKey().getFileName()
                + " was replaced or modified during the restore");
      }
    }
  }

  /** How long hashing the page files took (0 while it runs or when there was none). */
  public Duration hashing() {
    long done = hashedNanos;
    return done == 0 ? Duration.ZERO : Duration.ofNanos(done - startNanos);
  }
}
