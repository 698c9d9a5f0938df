package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.warmstart.agent.store.RedactedCommands;
import java.io.PrintStream;
import java.util.Map;

/** Human or JSON output, and a progress line on stderr for long steps. */
final class Output {
  private static final ObjectMapper JSON =
      RedactedCommands.redactCommands(
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT));
  private final boolean json;
  private final PrintStream out;
  private final PrintStream err;

  Output(boolean json, PrintStream out, PrintStream err) {
    this.json = json;
    this.out = out;
    this.err = err;
  }

  boolean json() {
    return json;
  }

  void progress(String step) {
    if (!json) {
      err.println("  ... " + step);
    }
  }

  /** A line for the human reading stderr (not in JSON mode). */
  void note(String line) {
    if (!json) {
      err.println(line);
    }
  }

  void result(Object value, String human) {
    if (json) {
      try {
        out.println(JSON.writeValueAsString(value));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    } else {
      out.println(human);
    }
  }

  void error(String reason, String message) {
    if (json) {
      result(Map.of("error", Map.of("reason", reason, "message", message)), "");
    } else {
      err.println("error (" + reason + "): " + message);
    }
  }

  static String table(Map<String, Long> timings) {
    StringBuilder sb = new StringBuilder();
    timings.forEach((k, v) -> sb.append(String.format("  %-14s %8d ms%n", k, v)));
    return sb.toString().stripTrailing();
  }
}
