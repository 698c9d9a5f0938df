package dev.warmstart.operator.reconciler;

import java.time.Duration;
import java.util.Optional;

/**
 * What one reconcile concluded: the status to write and when to look again (empty: only on the next
 * change).
 */
public record Decision<S>(S status, Optional<Duration> requeueAfter) {
  public static <S> Decision<S> done(S status) {
    return new Decision<>(status, Optional.empty());
  }

  public static <S> Decision<S> after(S status, Duration d) {
    return new Decision<>(status, Optional.of(d));
  }
}
