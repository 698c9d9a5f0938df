package dev.warmstart.agent.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.warmstart.api.v1alpha1.GpuInfo;
import java.util.List;
import java.util.Map;

/**
 * manifest.json of a checkpoint image: every file with its size and sha256, where the image came
 * from, and how long each step took. Its own sha256 is the image's digest.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
    int formatVersion,
    String name,
    String createdAt,
    String node,
    String criuVersion,
    Source source,
    List<FileEntry> files,
    long sizeBytes,
    Map<String, Long> timings,
    Map<String, String> labels,
    GpuInfo gpu) {

  public static final int FORMAT_VERSION = 1;
  public static final String FILE_NAME = "manifest.json";

  /**
   * One image file, by path relative to the image directory.
   *
   * @param sha256 of the whole file; for a file of more than one {@link #CHUNK_BYTES} piece, of the
   *     concatenated binary sha256 of its pieces (a hash list), so that both computing and checking
   *     it run on all cores: a GPU workload's page file is many GiB
   * @param chunkSha256 sha256 of each piece, for files of more than one piece
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FileEntry(String path, long size, String sha256, List<String> chunkSha256) {
    public FileEntry(String path, long size, String sha256) {
      this(path, size, sha256, null);
    }
  }

  /** Piece size for {@link FileEntry#chunkSha256}. */
  public static final long CHUNK_BYTES = 32L << 20;

  /**
   * The checkpointed tree.
   *
   * @param pidNamespace "host" (tree in the host PID namespace), "shared" (in a container's
   *     namespace, not its init) or "own" (the tree's root is its namespace's init)
   * @param externalNet the tree's network namespace is its container's, not restored from the image
   * @param mounts mounts marked external at dump, to be mapped onto the restore target's
   * @param stdio fd number (0-2) to what it was, e.g. "pipe:[123]", for the root process
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Source(
      int pid,
      List<Integer> processes,
      String command,
      String containerId,
      String pidNamespace,
      boolean externalNet,
      boolean ownIpcUts,
      List<ExternalMount> mounts,
      Map<Integer, String> stdio) {}

  /** A mount the image does not carry: a cgroup mount or a volume. */
  public record ExternalMount(String key, String mountPoint, String kind) {}
}
