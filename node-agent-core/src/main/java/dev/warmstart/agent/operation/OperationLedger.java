package dev.warmstart.agent.operation;

import dev.warmstart.api.agent.OperationStatus;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * The operations this agent knows, by id and by idempotency key: in memory for answers, in the
 * journal for restarts. Every change is journaled; finished operations beyond {@code keptFinished}
 * are pruned from both, oldest first.
 */
final class OperationLedger {
  private static final Logger LOG = Logger.getLogger(OperationLedger.class);
  private final OperationJournal journal;
  private final int keptFinished;
  private final Map<String, OperationJournal.Entry> byId = new ConcurrentHashMap<>();
  private final Map<String, String> idByKey = new ConcurrentHashMap<>();

  OperationLedger(OperationJournal journal, int keptFinished) {
    this.journal = journal;
    this.keptFinished = keptFinished;
  }

  /** Loads what the journal holds (after a restart); unreadable entries are quarantined. */
  List<OperationJournal.Entry> load() throws IOException {
    List<OperationJournal.Entry> entries = journal.readAll();
    for (OperationJournal.Entry e : entries) {
      byId.put(e.status().id(), e);
      idByKey.put(e.request().idempotencyKey(), e.status().id());
    }
    return entries;
  }

  Optional<OperationJournal.Entry> byKey(String idempotencyKey) {
    return Optional.ofNullable(idByKey.get(idempotencyKey)).map(byId::get);
  }

  Optional<OperationJournal.Entry> byId(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  Collection<OperationJournal.Entry> all() {
    return byId.values();
  }

  /** A new operation, known once journaled (too large: IllegalArgumentException, HTTP 400). */
  synchronized void add(OperationJournal.Entry entry) throws IOException {
    journal.write(entry);
    byId.put(entry.status().id(), entry);
    idByKey.put(entry.request().idempotencyKey(), entry.status().id());
  }

  /** Applies {@code change} to an operation's status and journals it. */
  synchronized void update(String id, UnaryOperator<OperationStatus> change) {
    OperationJournal.Entry e = byId.get(id);
    OperationJournal.Entry next = new OperationJournal.Entry(e.request(), change.apply(e.status()));
    if (next.status().state().isTerminal() && !e.status().state().isTerminal()) {
      prune(id); // before this one counts as finished: readers never see more than kept
    }
    byId.put(id, next);
    try {
      journal.write(next);
    } catch (IOException | RuntimeException ex) {
      // Kept in memory and answered; a restart without the write treats the step as interrupted.
      LOG.errorf("cannot journal operation %s: %s", id, ex.getMessage());
    }
  }

  private void prune(String finishing) {
    List<OperationStatus> finished =
        byId.values().stream()
            .map(OperationJournal.Entry::status)
            .filter(s -> s.state().isTerminal() && !s.id().equals(finishing))
            .toList();
    for (OperationStatus old : journal.prune(finished, keptFinished - 1)) {
      byId.remove(old.id());
      idByKey.remove(old.idempotencyKey(), old.id());
    }
  }
}
