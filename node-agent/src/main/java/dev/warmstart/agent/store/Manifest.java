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
    GpuInfo gpu,
    WritableLayer writableLayer,
    List<FileStamp> externalFiles) {

  /** A manifest without the container's writable layer and file stamps (host trees, old images). */
  public Manifest(
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
    this(
        formatVersion,
        name,
        createdAt,
        node,
        criuVersion,
        source,
        files,
        sizeBytes,
        timings,
        labels,
        gpu,
        null,
        null);
  }

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

  /**
   * The container's changes to its image's root filesystem (its overlay upper directory), taken
   * while the tree was frozen and stored as {@code archive}, an OCI-layer-style tar (deleted files
   * as {@code .wh.<name>}, opaque directories as {@code .wh..wh..opq}) digested like every image
   * file. Laid onto the placeholder's root filesystem before CRIU restores.
   *
   * @param archive image file holding the layer; null when nothing was captured (see {@code
   *     skipped})
   * @param bytes sum of the captured regular files' sizes
   * @param entries every captured path, in archive order
   * @param excluded paths left out by the agent's exclusion patterns
   * @param skipped why no layer was captured (e.g. the root is not an overlay), else null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record WritableLayer(
      String archive,
      String upperDir,
      long bytes,
      List<LayerEntry> entries,
      List<String> excluded,
      String skipped) {}

  /**
   * One path of the writable layer.
   *
   * @param type file, dir, symlink, hardlink, whiteout (deleted in the container) or opaque (a
   *     directory whose image contents the container replaced)
   */
  public record LayerEntry(String path, String type, long size) {}

  /**
   * A regular file the tree held open or mapped that the checkpoint does not carry (on a volume, or
   * in the image's own layers), as it was while the tree was frozen: CRIU reopens it by path at
   * restore and expects it unchanged.
   *
   * @param path inside the container (host path for a host tree)
   * @param mountPoint the volume it lives on, "/" for the container's root filesystem, null for a
   *     host tree
   * @param modified last modification time (ISO-8601, nanosecond precision)
   * @param appendOnly every descriptor on it was write-only and O_APPEND (a log): CRIU does not
   *     check its size, and the restored process appends at its end
   */
  public record FileStamp(
      String path, String mountPoint, long size, String modified, boolean appendOnly) {}
}
