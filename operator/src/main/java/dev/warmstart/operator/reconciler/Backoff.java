package dev.warmstart.operator.reconciler;

import java.time.Duration;

/** Exponential retry delays: first, 2×first, 4×first, ..., capped at five minutes. */
public final class Backoff {
  private static final Duration CAP = Duration.ofMinutes(5);

  private Backoff() {}

  public static Duration after(Duration first, int attempt) {
    Duration d = first.multipliedBy(1L << Math.min(Math.max(0, attempt - 1), 16));
    return d.compareTo(CAP) > 0 ? CAP : d;
  }
}
