package dev.warmstart.agent.operation;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Operations on the node's disk, one file each, replaced atomically and synced (file and directory)
 * on every change, so that an agent restart finds every operation it accepted and the state it had
 * reached. A file that cannot be read (truncated, empty, not an entry) is moved to {@code
 * quarantine/} and reported, never a reason to refuse every other operation.
 */
public final class OperationJournal {
  private static final Logger LOG = Logger.getLogger(OperationJournal.class);

  /** An entry larger than this is refused: the journal holds requests, not payloads. */
  public static final int MAX_ENTRY_BYTES = 256 * 1024;

  private final Path dir;
  private final Path quarantine;
  private final ObjectMapper json = new ObjectMapper();
  private final List<String> quarantined = new CopyOnWriteArrayList<>();

  /** What is journaled: the request as submitted and its latest status. */
  public record Entry(OperationRequest request, OperationStatus status) {}

  public OperationJournal(Path dir) throws IOException {
    this.dir = dir;
    this.quarantine = dir.resolve("quarantine");
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }

  /** The entry as it would be written; refused (IllegalArgumentException) when too large. */
  byte[] encode(Entry entry) throws IOException {
    byte[] bytes = json.writeValueAsBytes(entry);
    if (bytes.length > MAX_ENTRY_BYTES) {
      throw new IllegalArgumentException(
          "the request is "
              + bytes.length
              + " bytes as journaled, more than the agent keeps ("
              + MAX_ENTRY_BYTES
              + "): shorten its labels or hooks");
    }
    return bytes;
  }

  public void write(Entry entry) throws IOException {
    byte[] bytes = encode(entry);
    Path tmp = dir.resolve(entry.status().id() + ".tmp");
    Files.write(tmp, bytes);
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(entry.status().id() + ".json"), StandardCopyOption.ATOMIC_MOVE);
    syncDir(); // the rename itself survives a power loss only once the directory is synced
  }

  /** Every readable entry; unreadable files are quarantined (see {@link #quarantined}). */
  public List<Entry> readAll() throws IOException {
    List<Entry> out = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    for (Path f : files) {
      try {
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException("not a regular file");
        }
        Entry e = json.readValue(f.toFile(), Entry.class);
        if (e == null || e.request() == null || e.status() == null || e.status().id() == null) {
          throw new IOException("not an operation entry");
        }
        out.add(e);
      } catch (IOException | RuntimeException bad) {
        quarantine(f, bad);
      }
    }
    return out;
  }

  private void quarantine(Path f, Exception why) throws IOException {
    Files.createDirectories(quarantine);
    Path to = quarantine.resolve(f.getFileName() + "." + System.currentTimeMillis());
    Files.move(f, to, StandardCopyOption.ATOMIC_MOVE);
    syncDir();
    String line = f.getFileName() + " (" + firstLine(why.getMessage()) + ") moved to " + to;
    quarantined.add(line);
    LOG.warnf("unreadable journal entry %s", line);
  }

  /** The entries quarantined since this journal was opened, each with its reason. */
  public List<String> quarantined() {
    return List.copyOf(quarantined);
  }

  /** Whether the journal directory can be written now (readiness). */
  public void probe() throws IOException {
    Path probe = dir.resolve(".probe");
    Files.write(probe, new byte[] {1});
    Files.delete(probe);
  }

  /**
   * The journal's one way to shrink: of {@code finished} operations, all but the newest {@code
   * keep} (by finishing time) are removed. Returns those removed; one that cannot be removed stays
   * (logged) and is tried again at the next prune.
   */
  public List<OperationStatus> prune(Collection<OperationStatus> finished, int keep) {
    List<OperationStatus> oldestFirst =
        finished.stream()
            .sorted(Comparator.comparing((OperationStatus s) -> String.valueOf(s.finishedAt())))
            .toList();
    List<OperationStatus> removed = new ArrayList<>();
    for (OperationStatus old : oldestFirst.subList(0, Math.max(0, oldestFirst.size() - keep))) {
      try {
        Files.deleteIfExists(dir.resolve(old.id() + ".json"));
        removed.add(old);
      } catch (IOException ex) {
        LOG.warnf("cannot forget operation %s: %s", old.id(), ex.getMessage());
      }
    }
    return removed;
  }

  private void syncDir() throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  private static String firstLine(String s) {
    String t = String.valueOf(s).strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl);
  }
}
