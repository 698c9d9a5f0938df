package dev.warmstart.agent.gpumem;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One answer of the shim: {@code OK key=value ...} or {@code ERR Reason text}.
 *
 * @param reason the shim's reason word when not ok (e.g. OutOfMemory, PayloadDigestMismatch)
 */
public record ShimReply(boolean ok, String reason, String text) {
  static ShimReply parse(String line) {
    String l = line == null ? "" : line.strip();
    if (l.equals("OK") || l.startsWith("OK ")) {
      return new ShimReply(true, null, l.substring(2).strip());
    }
    if (l.startsWith("ERR ")) {
      String rest = l.substring(4).strip();
      int sp = rest.indexOf(' ');
      return sp < 0
          ? new ShimReply(false, rest, "")
          : new ShimReply(false, rest.substring(0, sp), rest.substring(sp + 1));
    }
    return new ShimReply(false, "NoAnswer", l.isEmpty() ? "the shim closed the connection" : l);
  }

  /** The figures of an OK answer ({@code allocations=2 bytes=...}). */
  public Map<String, String> figures() {
    Map<String, String> out = new LinkedHashMap<>();
    if (ok && !text.isEmpty()) {
      for (String kv : text.split("\\s+")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          out.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return ok ? "OK " + text : reason + ": " + text;
  }
}
