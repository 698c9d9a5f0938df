package dev.warmstart.agent.operation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged journal file costs that one entry, never every operation (G7). */
class OperationJournalTest {
  @TempDir Path dir;

  static OperationJournal.Entry entry(String id) {
    return new OperationJournal.Entry(
        OperationRequest.deleteImage("key-" + id, "img-" + id),
        new OperationStatus(
            id,
            "key-" + id,
            OperationKind.DELETE_IMAGE,
            OperationState.SUCCEEDED,
            null,
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:01Z",
            null,
            null,
            null,
            null));
  }

  @Test
  void unreadableEntriesAreQuarantinedAndTheOthersRead() throws Exception {
    OperationJournal journal = new OperationJournal(dir);
    journal.write(entry("good"));
    Files.write(dir.resolve("empty.json"), new byte[0]);
    Files.writeString(dir.resolve("truncated.json"), "{\"request\":{\"kind\":\"DELE");
    Files.writeString(dir.resolve("other.json"), "[1,2,3]");
    Files.writeString(dir.resolve("null.json"), "null");
    Files.createDirectory(dir.resolve("adir.json"));

    assertThat(journal.readAll()).extracting(e -> e.status().id()).containsExactly("good");
    assertThat(journal.quarantined()).hasSize(5);
    try (Stream<Path> q = Files.list(dir.resolve("quarantine"))) {
      assertThat(q.count()).isEqualTo(5);
    }
    OperationJournal reopened = new OperationJournal(dir);
    assertThat(reopened.readAll()).hasSize(1);
    assertThat(reopened.quarantined()).as("nothing left to quarantine").isEmpty();
  }

  @Test
  void anEntryTooLargeToKeepIsRefused() throws Exception {
    OperationJournal journal = new OperationJournal(dir);
    String huge = "x".repeat(OperationJournal.MAX_ENTRY_BYTES);
    assertThatThrownBy(() -> journal.write(entry(huge)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than the agent keeps");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }
}
