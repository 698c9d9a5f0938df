package dev.warmstart.agent.criu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Reads what went wrong out of a CRIU log. */
final class CriuLog {
  private static final Pattern CALL =
      Pattern.compile("warmstart-cuda: driver call (begins|ends): ");

  /**
   * CRIU's summary lines, the consequences of an error already quoted, and errors CRIU carries on
   * after (without CAP_SYS_RESOURCE it cannot raise its own RLIMIT_NOFILE): never the reason.
   */
  private static final Pattern NOISE =
      Pattern.compile(
          "(Dumping|Restoring) FAILED|exited, status=|killed by signal|Dump interrupted by signal"
              + "|Timeout reached|Unable to interrupt|Can't (cure|unseize)"
              + "|Can't setup RLIMIT_NOFILE for self");

  private CriuLog() {}

  /**
   * The log's error lines (CRIU prefixes them with "Error ("), at most {@code max}: the plugin's
   * own errors first (they name the driver's failure), then CRIU's, without its summary lines.
   */
  static List<String> errors(Path log, int max) {
    List<String> all = lines(log).stream().filter(CriuLog::isError).map(CriuLog::strip).toList();
    List<String> out = new ArrayList<>();
    all.stream().filter(l -> l.contains("warmstart-cuda:")).forEach(out::add);
    all.stream()
        .filter(l -> !l.contains("warmstart-cuda:") && !NOISE.matcher(l).find())
        .forEach(out::add);
    if (out.isEmpty()) {
      out.addAll(all);
    }
    return out.stream().distinct().limit(max).toList();
  }

  /** Whether the CUDA plugin has a driver call in progress (it logs each call's begin and end). */
  static boolean driverCallInProgress(Path log) {
    int open = 0;
    for (String l : lines(log)) {
      Matcher m = CALL.matcher(l);
      if (m.find()) {
        open += m.group(1).equals("begins") ? 1 : -1;
      }
    }
    return open > 0;
  }

  /** Whether an error line is noise (see NOISE), e.g. CRIU's first error in its RPC answer. */
  static boolean isNoise(String line) {
    return NOISE.matcher(line).find();
  }

  private static boolean isError(String l) {
    return l.contains("Error (") || l.contains("Error:");
  }

  private static String strip(String l) {
    return l.replaceFirst("^\\(\\s*[0-9.]+\\)\\s*", "").strip();
  }

  private static List<String> lines(Path log) {
    if (!Files.exists(log)) {
      return List.of();
    }
    try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
      return lines.toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      return List.of("Error: (log unreadable: " + e.getMessage() + ")");
    }
  }
}
