package dev.warmstart.agent.operation;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;

/**
 * Runs agent operations asynchronously. A request is accepted once per idempotency key (the same
 * key returns the first operation), journaled before it runs and at each step, and recovered on
 * start ({@link OperationRecovery}). Operations on one image run one at a time, the others waiting
 * in a queue of their image without holding a thread; operations on different images run in
 * parallel on the executor. At most {@code capacity} operations are accepted and not ended; more
 * are refused with {@link BusyException}.
 */
public final class OperationService {
  /** Operations accepted and not yet ended, at most (above it: 429). */
  public static final int DEFAULT_CAPACITY = 64;

  /** Finished operations kept for their idempotency keys and status, at most (oldest go first). */
  public static final int KEPT_FINISHED = 1000;

  private final OperationLedger ledger;
  private final StatusTransitions statuses;
  private final OperationQueue queue;
  private final OperationRecovery recovery;
  private final OperationJournal journal;

  private OperationService(Builder b) throws IOException {
    this.journal = b.journal;
    this.ledger = new OperationLedger(b.journal, b.keptFinished);
    this.statuses = new StatusTransitions(b.clock);
    ImageSummaries summaries = new ImageSummaries(b.nodeName);
    OperationRunner runner = new OperationRunner(b.agent, ledger, statuses, summaries, b.hugePages);
    this.queue =
        new OperationQueue(
            b.executor,
            b.capacity,
            runner::run,
            id ->
                ledger.update(
                    id,
                    s -> statuses.failed(s, ErrorReason.Internal, "the agent is shutting down")));
    this.recovery = new OperationRecovery(b.agent, ledger, statuses, summaries, this::dispatch);
    recovery.recover();
  }

  /**
   * @param executor runs operations; only this service's (never the API's threads)
   */
  public static Builder builder(
      AgentComponents agent, OperationJournal journal, ExecutorService executor) {
    return new Builder(agent, journal, executor);
  }

  /** Accepts a request, or returns the operation already accepted for its idempotency key. */
  public synchronized OperationStatus submit(OperationRequest request) {
    OperationRequests.validate(request);
    Optional<OperationJournal.Entry> existing = ledger.byKey(request.idempotencyKey());
    if (existing.isPresent()) {
      if (!existing.get().request().equals(request)) {
        throw new IdempotencyConflictException(
            "idempotency key '"
                + request.idempotencyKey()
                + "' was used for a different request (operation "
                + existing.get().status().id()
                + ")");
      }
      return existing.get().status();
    }
    queue.requireRoom();
    String id = UUID.randomUUID().toString();
    OperationStatus accepted = statuses.accepted(id, request);
    try {
      ledger.add(new OperationJournal.Entry(request, accepted)); // too large: 400
    } catch (IOException e) {
      throw new UncheckedIOException("cannot journal operation " + id + ": " + e.getMessage(), e);
    }
    dispatch(id);
    return accepted;
  }

  public Optional<OperationStatus> get(String id) {
    return ledger.byId(id).map(OperationJournal.Entry::status);
  }

  public List<OperationStatus> list() {
    return ledger.all().stream().map(OperationJournal.Entry::status).toList();
  }

  /** What recovery found, one line per interrupted operation (logged, and for readiness). */
  public List<String> recovered() {
    return recovery.recovered();
  }

  public List<String> quarantined() {
    return journal.quarantined();
  }

  /** Whether this service can take work: its journal is writable and its executor runs. */
  public void probe() throws IOException {
    journal.probe();
    if (queue.isShutdown()) {
      throw new IOException("the operation executor is shut down");
    }
  }

  private void dispatch(String id) {
    queue.dispatch(id, OperationRequests.imageOf(ledger.byId(id).orElseThrow().request()));
  }

  /** The node takes no more operations now (HTTP 429). */
  public static final class BusyException extends RuntimeException {
    public BusyException(String message) {
      super(message);
    }
  }

  /** The same idempotency key came with another request body. */
  public static final class IdempotencyConflictException extends RuntimeException {
    public IdempotencyConflictException(String message) {
      super(message);
    }
  }

  /** Builds an {@link OperationService}; {@link #start} recovers the journal's operations. */
  public static final class Builder {
    private final AgentComponents agent;
    private final OperationJournal journal;
    private final ExecutorService executor;
    private Clock clock = Clock.systemUTC();
    private String nodeName = "";
    private HugePages hugePages;
    private int capacity = DEFAULT_CAPACITY;
    private int keptFinished = KEPT_FINISHED;

    private Builder(AgentComponents agent, OperationJournal journal, ExecutorService executor) {
      this.agent = agent;
      this.journal = journal;
      this.executor = executor;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /** The node named in the images' locations the operations report. */
    public Builder nodeName(String nodeName) {
      this.nodeName = nodeName;
      return this;
    }

    /** THP policy during checkpoints and restores; not set: leave the node's alone. */
    public Builder hugePages(HugePages hugePages) {
      this.hugePages = hugePages;
      return this;
    }

    /** Operations accepted and not ended, at most; more are refused (HTTP 429). */
    public Builder capacity(int capacity) {
      this.capacity = capacity;
      return this;
    }

    Builder keptFinished(int keptFinished) {
      this.keptFinished = keptFinished;
      return this;
    }

    /** The service, once the journal's operations are recovered. */
    public OperationService start() throws IOException {
      return new OperationService(this);
    }
  }
}
