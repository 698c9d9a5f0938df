package dev.warmstart.agent.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** A staged image a dead agent left for {@code operationId}, taken over by the caller. */
public record StagedCheckpoint(ScratchDir dir, PendingCheckpoint pending) {
  /** CRIU wrote every image file: the inventory is written last and the log says it ended. */
  public boolean complete() {
    Path d = dir.dir();
    try {
      return Files.isRegularFile(d.resolve("inventory.img"), LinkOption.NOFOLLOW_LINKS)
          && Files.readString(d.resolve("dump.log"), StandardCharsets.ISO_8859_1)
              .contains("Dumping finished successfully");
    } catch (IOException e) {
      return false;
    }
  }
}
