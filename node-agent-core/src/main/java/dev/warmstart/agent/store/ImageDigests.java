package dev.warmstart.agent.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;

/**
 * Digests of image files, computed and checked on all cores: a GPU workload's page file is many
 * GiB, and one core hashes ~1.5 GB/s, which would put seconds of verification on every restore.
 */
final class ImageDigests {
  private static final ForkJoinPool POOL =
      new ForkJoinPool(Math.max(2, Runtime.getRuntime().availableProcessors()));

  private ImageDigests() {}

  /** Manifest entries for {@code files} under {@code dir} (see {@link Manifest.FileEntry}). */
  static List<Manifest.FileEntry> of(Path dir, List<Path> files) throws IOException {
    List<List<Future<String>>> pieces = new ArrayList<>();
    for (Path f : files) {
      long size = Files.size(f);
      List<Future<String>> parts = new ArrayList<>();
      if (size <= Manifest.CHUNK_BYTES) {
        parts.add(POOL.submit(() -> Sha256.of(f)));
      } else {
        for (long off = 0; off < size; off += Manifest.CHUNK_BYTES) {
          long at = off;
          parts.add(
              POOL.submit(() -> Sha256.ofRange(f, at, Math.min(Manifest.CHUNK_BYTES, size - at))));
        }
      }
      pieces.add(parts);
    }
    List<Manifest.FileEntry> out = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      List<String> digests = new ArrayList<>();
      for (Future<String> p : pieces.get(i)) {
        digests.add(join(p));
      }
      long size = Files.size(f);
      String rel = dir.relativize(f).toString();
      out.add(
          size <= Manifest.CHUNK_BYTES
              ? new Manifest.FileEntry(rel, size, digests.get(0))
              : new Manifest.FileEntry(rel, size, Sha256.ofDigests(digests), digests));
    }
    return out;
  }

  /**
   * Runs the digest code hot once, in the background: a fresh JVM hashes several times slower until
   * the JIT has compiled SHA-256 to its CPU intrinsic, and the first restore should not pay that.
   */
  static void warmUp() {
    POOL.execute(
        () -> {
          byte[] block = new byte[1 << 20];
          for (int i = 0; i < 256; i++) {
            Sha256.of(block);
          }
        });
  }

  /** Checks every listed file's content (sizes were checked before); names the first mismatch. */
  static void verify(String image, Path dir, List<Manifest.FileEntry> entries)
      throws IOException, ImageIntegrityException {
    List<Callable<String>> checks = new ArrayList<>();
    for (Manifest.FileEntry e : entries) {
      Path f = dir.resolve(e.path());
      if (e.chunkSha256() == null) {
        checks.add(() -> Sha256.of(f).equals(e.sha256()) ? null : e.path());
        continue;
      }
      long expected = (e.size() + Manifest.CHUNK_BYTES - 1) / Manifest.CHUNK_BYTES;
      if (e.chunkSha256().size() != expected
          || !Sha256.ofDigests(e.chunkSha256()).equals(e.sha256())) {
        throw new ImageIntegrityException(
            "image '"
                + image
                + "': the manifest's piece digests of "
                + e.path()
                + " do not add up");
      }
      for (int i = 0; i < e.chunkSha256().size(); i++) {
        long off = i * Manifest.CHUNK_BYTES;
        String want = e.chunkSha256().get(i);
        checks.add(
            () ->
                Sha256.ofRange(f, off, Math.min(Manifest.CHUNK_BYTES, e.size() - off)).equals(want)
                    ? null
                    : e.path());
      }
    }
    for (Future<String> r : POOL.invokeAll(checks)) {
      String bad = join(r);
      if (bad != null) {
        throw new ImageIntegrityException(
            "image '" + image + "': file " + bad + " does not match its sha256 (modified)");
      }
    }
  }

  private static String join(Future<String> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while hashing", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      throw new IOException("hashing failed: " + e.getCause(), e.getCause());
    }
  }
}
