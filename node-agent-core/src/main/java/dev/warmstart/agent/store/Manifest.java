package dev.warmstart.agent.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.warmstart.api.agent.GpuInfo;
import java.util.List;
import java.util.Map;

/**
 * manifest.json of a checkpoint image: every file with its size and sha256, where the image came
 * from, and how long each step took. Its own sha256 is the image's digest. A format of its own,
 * versioned by {@code formatVersion} (checked on every read) and built only from agent protocol
 * types, never the CRD's: images outlive CRD versions.
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

  /**
   * Refuses a manifest of another format (a newer agent's, or no format at all) as it is read, so
   * every reader (restore, verify, list, import) says which format it met instead of misreading it.
   */
  public Manifest {
    if (formatVersion != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          "manifest format version "
              + formatVersion
              + " is not the one this agent reads ("
              + FORMAT_VERSION
              + "); the image was written by another Warmstart version");
    }
  }

  /**
   * A manifest of format {@link #FORMAT_VERSION} for {@code name}; the rest added by the builder.
   */
  public static Builder builder(String name) {
    return new Builder(FORMAT_VERSION, name);
  }

  /** This manifest's fields in a builder, to change some of them. */
  public Builder toBuilder() {
    Builder b = new Builder(formatVersion, name);
    b.createdAt = createdAt;
    b.node = node;
    b.criuVersion = criuVersion;
    b.source = source;
    b.files = files;
    b.sizeBytes = sizeBytes;
    b.timings = timings;
    b.labels = labels;
    b.gpu = gpu;
    b.writableLayer = writableLayer;
    b.externalFiles = externalFiles;
    return b;
  }

  /** Builds a {@link Manifest}; a field not given is absent (null, 0). */
  public static final class Builder {
    private final int formatVersion;
    private final String name;
    private String createdAt;
    private String node;
    private String criuVersion;
    private Source source;
    private List<FileEntry> files;
    private long sizeBytes;
    private Map<String, Long> timings;
    private Map<String, String> labels;
    private GpuInfo gpu;
    private WritableLayer writableLayer;
    private List<FileStamp> externalFiles;

    private Builder(int formatVersion, String name) {
      this.formatVersion = formatVersion;
      this.name = name;
    }

    public Builder createdAt(String createdAt) {
      this.createdAt = createdAt;
      return this;
    }

    public Builder node(String node) {
      this.node = node;
      return this;
    }

    public Builder criuVersion(String criuVersion) {
      this.criuVersion = criuVersion;
      return this;
    }

    public Builder source(Source source) {
      this.source = source;
      return this;
    }

    /** The image's files (without the manifest) and their total size. */
    public Builder files(List<FileEntry> files, long sizeBytes) {
      this.files = files;
      this.sizeBytes = sizeBytes;
      return this;
    }

    public Builder timings(Map<String, Long> timings) {
      this.timings = timings;
      return this;
    }

    public Builder labels(Map<String, String> labels) {
      this.labels = labels;
      return this;
    }

    public Builder gpu(GpuInfo gpu) {
      this.gpu = gpu;
      return this;
    }

    public Builder writableLayer(WritableLayer layer) {
      this.writableLayer = layer;
      return this;
    }

    public Builder externalFiles(List<FileStamp> stamps) {
      this.externalFiles = stamps;
      return this;
    }

    public Manifest build() {
      return new Manifest(
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
          writableLayer,
          externalFiles);
    }
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
