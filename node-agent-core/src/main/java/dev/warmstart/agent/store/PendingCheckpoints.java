package dev.warmstart.agent.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The record beside a staging directory of which operation stages it and the manifest it will get:
 * what lets a restarted agent finish or undo a checkpoint it was taking when it died.
 */
final class PendingCheckpoints {
  private final Path stagingRoot;
  private final ObjectMapper json;

  PendingCheckpoints(Path stagingRoot, ObjectMapper json) {
    this.stagingRoot = stagingRoot;
    this.json = json;
  }

  void mark(ScratchDir staging, PendingCheckpoint pending) throws IOException {
    Path file = ScratchDir.pendingOf(staging.dir());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, json.writeValueAsBytes(pending));
    Durable.sync(tmp);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    Durable.sync(file.getParent());
  }

  Optional<PendingCheckpoint> of(Path stagingDir) {
    Path file = ScratchDir.pendingOf(stagingDir);
    try {
      PendingCheckpoint p = json.readValue(file.toFile(), PendingCheckpoint.class);
      return p.operationId() == null ? Optional.empty() : Optional.of(p);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  List<StagedCheckpoint> staged(String operationId) throws IOException {
    List<StagedCheckpoint> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(stagingRoot)) {
      for (Path d : s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
        Optional<PendingCheckpoint> p = of(d);
        if (p.isPresent() && operationId.equals(p.get().operationId())) {
          try {
            out.add(new StagedCheckpoint(ScratchDir.adopt(d), p.get()));
          } catch (IOException inUse) {
            // another live process holds it
          }
        }
      }
    }
    return out;
  }
}
