package dev.warmstart.agent.criu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Reads what went wrong out of a CRIU log. */
final class CriuLog {
  private CriuLog() {}

  /** The log's error lines (CRIU prefixes them with "Error ("), at most {@code max}. */
  static List<String> errors(Path log, int max) {
    if (!Files.exists(log)) {
      return List.of();
    }
    try (Stream<String> lines = Files.lines(log)) {
      return lines
          .filter(l -> l.contains("Error (") || l.contains("Error:"))
          .map(l -> l.replaceFirst("^\\(\\s*[0-9.]+\\)\\s*", "").strip())
          .limit(max)
          .toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      return List.of("(log unreadable: " + e.getMessage() + ")");
    }
  }
}
