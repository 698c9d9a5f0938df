package dev.warmstart.agent.core;

import java.util.LinkedHashMap;
import java.util.Map;

/** Milliseconds per step, in the order the steps ran. */
public final class Timings {
  private final Map<String, Long> millis = new LinkedHashMap<>();
  private final long start = System.nanoTime();

  public void record(String step, long startNanos) {
    millis.put(step, (System.nanoTime() - startNanos) / 1_000_000);
  }

  public void put(String step, long ms) {
    millis.put(step, ms);
  }

  public void putAll(Map<String, Long> more) {
    millis.putAll(more);
  }

  public Map<String, Long> withTotal() {
    Map<String, Long> out = new LinkedHashMap<>(millis);
    out.put("total", (System.nanoTime() - start) / 1_000_000);
    return out;
  }
}
