package dev.warmstart.operator.reconciler.schedule;

import static dev.warmstart.operator.reconciler.schedule.Retention.Outcome.Failed;
import static dev.warmstart.operator.reconciler.schedule.Retention.Outcome.Running;
import static dev.warmstart.operator.reconciler.schedule.Retention.Outcome.Succeeded;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.operator.reconciler.schedule.Retention.Entry;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which checkpoints retention deletes. */
class RetentionTest {
  private static Entry e(String name, Retention.Outcome o, int hour) {
    return new Entry(name, o, Instant.parse("2026-11-24T00:00:00Z").plusSeconds(3600L * hour));
  }

  private static final List<Entry> HISTORY =
      List.of(
          e("c1", Succeeded, 1),
          e("c2", Failed, 2),
          e("c3", Succeeded, 3),
          e("c4", Succeeded, 4),
          e("c5", Failed, 5),
          e("c6", Succeeded, 6),
          e("c7", Running, 7));

  @Test
  void keepsTheNewestNSucceededAndMFailedDeletingOldestFirst() {
    assertThat(Retention.toDelete(HISTORY, Set.of(), 2, 1)).containsExactly("c1", "c3", "c2");
  }

  @Test
  void neverDeletesTheNewestGoodOneEvenWithALimitOfZero() {
    assertThat(Retention.toDelete(HISTORY, Set.of(), 0, 0))
        .containsExactly("c1", "c3", "c4", "c2", "c5")
        .doesNotContain("c6");
  }

  @Test
  void neverDeletesOneThatARestoreOrPoolUses() {
    assertThat(Retention.toDelete(HISTORY, Set.of("c1", "c5"), 1, 0))
        .containsExactly("c3", "c4", "c2");
  }

  @Test
  void neverDeletesARunningCheckpoint() {
    List<Entry> running = List.of(e("a", Running, 1), e("b", Running, 2), e("c", Succeeded, 3));
    assertThat(Retention.toDelete(running, Set.of(), 1, 0)).isEmpty();
  }

  @Test
  void withinTheLimitsNothingIsDeleted() {
    assertThat(Retention.toDelete(HISTORY, Set.of(), 4, 2)).isEmpty();
  }
}
