package dev.warmstart.operator.reconciler.schedule;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Which of a schedule's checkpoints to delete, as a pure function: keep the newest {@code
 * keepSucceeded} succeeded (at least one, so the newest good checkpoint is never deleted) and the
 * newest {@code keepFailed} failed; never delete one still running or one in use (named by a
 * GpuRestore or GpuStandbyPool).
 */
public final class Retention {
  private Retention() {}

  /** What retention needs to know of a checkpoint. */
  public enum Outcome {
    Running,
    Succeeded,
    Failed
  }

  public record Entry(String name, Outcome outcome, Instant created) {}

  /** Names to delete, oldest first. */
  public static List<String> toDelete(
      List<Entry> checkpoints, Set<String> inUse, int keepSucceeded, int keepFailed) {
    List<String> out = new ArrayList<>();
    out.addAll(beyond(checkpoints, Outcome.Succeeded, Math.max(1, keepSucceeded), inUse));
    out.addAll(beyond(checkpoints, Outcome.Failed, Math.max(0, keepFailed), inUse));
    return out;
  }

  private static List<String> beyond(
      List<Entry> all, Outcome outcome, int keep, Set<String> inUse) {
    List<Entry> newestFirst =
        all.stream()
            .filter(e -> e.outcome() == outcome)
            .sorted(Comparator.comparing(Entry::created).thenComparing(Entry::name).reversed())
            .toList();
    List<String> out = new ArrayList<>();
    for (int i = newestFirst.size() - 1; i >= keep; i--) {
      Entry e = newestFirst.get(i);
      if (!inUse.contains(e.name())) {
        out.add(e.name());
      }
    }
    return out;
  }
}
