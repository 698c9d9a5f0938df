package dev.warmstart.agent.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Operations on the node's disk, one file each, replaced atomically and synced on every change, so
 * that an agent restart finds every operation it accepted and the state it had reached.
 */
public final class OperationJournal {
  private final Path dir;
  private final ObjectMapper json = new ObjectMapper();

  /** What is journaled: the request as submitted and its latest status. */
  public record Entry(OperationRequest request, OperationStatus status) {}

  public OperationJournal(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }

  public void write(Entry entry) throws IOException {
    Path tmp = dir.resolve(entry.status().id() + ".tmp");
    Files.write(tmp, json.writeValueAsBytes(entry));
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(entry.status().id() + ".json"), StandardCopyOption.ATOMIC_MOVE);
  }

  public List<Entry> readAll() throws IOException {
    List<Entry> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        out.add(json.readValue(f.toFile(), Entry.class));
      }
    }
    return out;
  }

  public void delete(String id) throws IOException {
    Files.deleteIfExists(dir.resolve(id + ".json"));
  }
}
