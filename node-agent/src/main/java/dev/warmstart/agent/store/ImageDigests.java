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

  /** Manifest entries for {@code files} under {@code dir}: whole-file and per-chunk sha256. */
  static List<Manifest.FileEntry> of(Path dir, List<Path> files) throws IOException {
    List<Future<String>> whole = new ArrayList<>();
    List<List<Future<String>>> chunks = new ArrayList<>();
    for (Path f : files) {
      long size = Files.size(f);
      whole.add(POOL.submit(() -> Sha256.of(f)));
      List<Future<String>> parts = new ArrayList<>();
      if (size > Manifest.CHUNK_BYTES) {
        for (long off = 0; off < size; off += Manifest.CHUNK_BYTES) {
          long at = off;
          parts.add(
              POOL.submit(() -> Sha256.ofRange(f, at, Math.min(Manifest.CHUNK_BYTES, size - at))));
        }
      }
      chunks.add(parts);
    }
    List<Manifest.FileEntry> out = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      List<String> parts = new ArrayList<>();
      for (Future<String> p : chunks.get(i)) {
        parts.add(join(p));
      }
      out.add(
          new Manifest.FileEntry(
              dir.relativize(f).toString(),
              Files.size(f),
              join(whole.get(i)),
              parts.isEmpty() ? null : parts));
    }
    return out;
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
      if (e.chunkSha256().size() != expected) {
        throw new ImageIntegrityException(
            "image '" + image + "': manifest lists a wrong number of chunks for " + e.path());
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
