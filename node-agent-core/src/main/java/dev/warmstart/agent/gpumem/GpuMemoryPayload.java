package dev.warmstart.agent.gpumem;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The steps around CRIU for a tree whose processes run the shim. Before the dump, each shim copies
 * its managed GPU memory into {@code gpumem/<pid in its namespace>/} of the image and releases it
 * (its program's CUDA calls wait at the shim's gate); after a leave-running dump, or a failed one,
 * it is put back; after a restore, once the driver has let the process run, it is loaded from the
 * image. The files are listed in the manifest with the image's other files; the shim also checks
 * every chunk against its own index while loading.
 *
 * <p>A tree without a shim passes through every step untouched.
 */
public final class GpuMemoryPayload {
  public static final String DIR = "gpumem";
  static final String INDEX = "gpumem.index";

  /** Writer threads of a shim's checkpoint: one data file each. */
  private static final int WRITERS =
      Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));

  private static final Set<String> INTEGRITY =
      Set.of("PayloadDigestMismatch", "PayloadMissing", "PayloadInvalid", "PayloadMismatch");

  private final ShimFinder finder;

  public GpuMemoryPayload(Procfs procfs) {
    this(new ShimFinder(procfs));
  }

  GpuMemoryPayload(ShimFinder finder) {
    this.finder = finder;
  }

  /**
   * The shims whose memory is in {@code imageDir}, to be put back if the checkpoint goes on.
   *
   * @param bytes the managed GPU memory they moved
   */
  public record Out(List<GpuMemoryShim> shims, Path imageDir, long bytes) {
    public boolean isEmpty() {
      return shims.isEmpty();
    }
  }

  /** Whether an image directory holds a managed payload. */
  public static boolean present(Path imageDir) {
    return Files.isDirectory(imageDir.resolve(DIR));
  }

  /** Whether an image's file list holds a managed payload. */
  public static boolean listed(List<String> paths) {
    return paths.stream().anyMatch(p -> p.startsWith(DIR + "/"));
  }

  /**
   * Moves the managed memory of every shim in {@code tree} into {@code imageDir}. On any failure
   * the memory already moved is put back, the payload removed, and the workload keeps running.
   */
  public Out checkpoint(List<Integer> tree, Path imageDir, Duration timeout)
      throws OperationFailure {
    List<GpuMemoryShim> shims = finder.find(tree);
    Out done = new Out(new ArrayList<>(), imageDir, 0);
    long bytes = 0;
    for (GpuMemoryShim s : shims) {
      Path dir = payloadDir(imageDir, s.nsPid());
      ShimReply r;
      try {
        Files.createDirectories(dir);
        List<Path> files = new ArrayList<>(List.of(dir.resolve(INDEX)));
        for (int i = 0; i < WRITERS; i++) {
          files.add(dir.resolve("data-" + i + ".bin"));
        }
        r = ShimSocket.request(s.socket(), "CHECKPOINT", files, true, timeout);
      } catch (IOException e) {
        r = new ShimReply(false, "NoAnswer", e.getMessage());
      }
      if (!r.ok()) {
        String back = putBackQuietly(done, timeout);
        removePayload(imageDir);
        throw new OperationFailure(
            ErrorReason.GpuMemoryShimFailed,
            "the GPU memory shim of pid "
                + s.hostPid()
                + " did not checkpoint its memory ("
                + r
                + "); nothing was dumped and the workload keeps running with its memory"
                + back);
      }
      done.shims().add(s);
      bytes += Long.parseLong(r.figures().getOrDefault("bytes", "0"));
    }
    return new Out(done.shims(), imageDir, bytes);
  }

  /** Puts the memory back in place from the payload (after a leave-running or a failed dump). */
  public void resume(Out out, Duration timeout) throws OperationFailure {
    for (GpuMemoryShim s : out.shims()) {
      ShimReply r = call(s, "RESUME", payloadDir(out.imageDir(), s.nsPid()), timeout);
      if (!r.ok()) {
        throw failure(r, "pid " + s.hostPid() + " did not get its GPU memory back");
      }
    }
  }

  /** {@link #resume}, for a failure path: returns what went wrong as a sentence to append. */
  public String putBackQuietly(Out out, Duration timeout) {
    try {
      resume(out, timeout);
      return "";
    } catch (OperationFailure e) {
      return "; putting the memory back failed too: " + e.getMessage();
    }
  }

  /**
   * Loads the payload of {@code imageDir} into the shims of the restored {@code tree}, which must
   * have one for every process the payload was taken from. The caller kills the tree on failure:
   * without its memory it must not run.
   */
  public void restore(List<Integer> tree, Path imageDir, Duration timeout) throws OperationFailure {
    Map<Integer, Path> payloads = payloads(imageDir);
    Map<Integer, GpuMemoryShim> shims = new HashMap<>();
    for (GpuMemoryShim s : finder.find(tree)) {
      shims.put(s.nsPid(), s);
    }
    if (payloads.isEmpty()) {
      // A shim whose memory is out waits at its gate forever without a payload: say so instead.
      for (GpuMemoryShim s : shims.values()) {
        ShimReply st = status(s, timeout);
        if (st.ok() && "released".equals(st.figures().get("state"))) {
          throw new OperationFailure(
              ErrorReason.ImageIntegrityFailed,
              "the GPU memory of pid "
                  + s.hostPid()
                  + " is out of the process, but the image has no payload for it");
        }
      }
      return;
    }
    for (Map.Entry<Integer, Path> p : payloads.entrySet()) {
      GpuMemoryShim s = shims.get(p.getKey());
      if (s == null) {
        throw new OperationFailure(
            ErrorReason.GpuMemoryShimFailed,
            "the image holds the GPU memory of pid "
                + p.getKey()
                + " (in its namespace), but no GPU memory shim answers for it in the restored"
                + " tree");
      }
      ShimReply r = call(s, "RESTORE", p.getValue(), timeout);
      if (!r.ok()) {
        throw failure(r, "pid " + s.hostPid() + " did not get its GPU memory back");
      }
    }
  }

  private static ShimReply status(GpuMemoryShim s, Duration timeout) {
    try {
      return ShimSocket.request(s.socket(), "STATUS", List.of(), false, timeout);
    } catch (IOException e) {
      return new ShimReply(false, "NoAnswer", e.getMessage());
    }
  }

  /** RESUME or RESTORE with the payload's files, read-only: the index, then data-0.bin, ... */
  private static ShimReply call(GpuMemoryShim s, String command, Path dir, Duration timeout)
      throws OperationFailure {
    List<Path> files = new ArrayList<>(List.of(dir.resolve(INDEX)));
    try (Stream<Path> all = Files.list(dir)) {
      all.map(p -> p.getFileName().toString())
          .filter(n -> n.matches("data-[0-9]+\\.bin"))
          .sorted(Comparator.comparingInt(n -> Integer.parseInt(n.substring(5, n.length() - 4))))
          .forEach(n -> files.add(dir.resolve(n)));
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.ImageIntegrityFailed, "cannot read the GPU memory payload " + dir + ": " + e);
    }
    if (!Files.isRegularFile(files.get(0))) {
      throw new OperationFailure(
          ErrorReason.ImageIntegrityFailed, "the GPU memory payload " + dir + " has no " + INDEX);
    }
    try {
      return ShimSocket.request(s.socket(), command, files, false, timeout);
    } catch (IOException e) {
      return new ShimReply(false, "NoAnswer", e.getMessage());
    }
  }

  private static OperationFailure failure(ShimReply r, String what) {
    ErrorReason reason =
        r.reason().equals("OutOfMemory")
            ? ErrorReason.GpuOutOfMemory
            : INTEGRITY.contains(r.reason())
                ? ErrorReason.ImageIntegrityFailed
                : ErrorReason.GpuMemoryShimFailed;
    return new OperationFailure(reason, what + ": " + r);
  }

  private static Map<Integer, Path> payloads(Path imageDir) throws OperationFailure {
    Map<Integer, Path> out = new HashMap<>();
    Path root = imageDir.resolve(DIR);
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.toList()) {
        String name = d.getFileName().toString();
        if (!name.matches("[0-9]+") || !Files.isDirectory(d)) {
          throw new OperationFailure(
              ErrorReason.ImageIntegrityFailed, "unexpected entry " + DIR + "/" + name);
        }
        out.put(Integer.parseInt(name), d);
      }
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.ImageIntegrityFailed, "cannot read the GPU memory payload: " + e, e);
    }
    return out;
  }

  static Path payloadDir(Path imageDir, int nsPid) {
    return imageDir.resolve(DIR).resolve(Integer.toString(nsPid));
  }

  private static void removePayload(Path imageDir) {
    Path root = imageDir.resolve(DIR);
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // the staging directory goes away as a whole with the failed checkpoint
    }
  }
}
