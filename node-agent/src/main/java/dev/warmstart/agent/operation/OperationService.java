package dev.warmstart.agent.operation;

import dev.warmstart.agent.activation.ActivateCommand;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.checkpoint.CheckpointService;
import dev.warmstart.agent.checkpoint.TreeResumer;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.ImageExistsException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ImageSummary;
import dev.warmstart.api.agent.OperationError;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.RestoreRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import org.jboss.logging.Logger;

/**
 * Runs agent operations asynchronously. A request is accepted once per idempotency key (the same
 * key returns the first operation), journaled before it runs and at each step, and recovered on
 * start: accepted work runs, work interrupted mid-way is failed with reason Interrupted rather than
 * repeated, and a workload an interrupted checkpoint left stopped is resumed. Operations on one
 * image run one at a time, the others waiting in a queue of their image without holding a thread;
 * operations on different images run in parallel on the executor. At most {@code capacity}
 * operations are accepted and not ended; more are refused with {@link BusyException}.
 */
public final class OperationService {
  private static final Logger LOG = Logger.getLogger(OperationService.class);
  private final AgentComponents agent;
  private final OperationJournal journal;
  private final Clock clock;
  private final String nodeName;
  private final Map<String, OperationJournal.Entry> byId = new ConcurrentHashMap<>();
  private final Map<String, String> idByKey = new ConcurrentHashMap<>();

  private final OperationQueue queue;
  private final int keptFinished;
  private final HugePages hugePages;
  private final List<String> recovered = new CopyOnWriteArrayList<>();

  /** Operations accepted and not yet ended, at most (above it: 429). */
  public static final int DEFAULT_CAPACITY = 64;

  /** Finished operations kept for their idempotency keys and status, at most (oldest go first). */
  static final int KEPT_FINISHED = 1000;

  public OperationService(
      AgentComponents agent,
      OperationJournal journal,
      ExecutorService executor,
      Clock clock,
      String nodeName,
      Procfs procfs)
      throws IOException {
    this(agent, journal, executor, clock, nodeName, procfs, null);
  }

  /**
   * @param hugePages THP policy during checkpoints and restores; null: leave the node's alone
   */
  public OperationService(
      AgentComponents agent,
      OperationJournal journal,
      ExecutorService executor,
      Clock clock,
      String nodeName,
      Procfs procfs,
      HugePages hugePages)
      throws IOException {
    this(agent, journal, executor, clock, nodeName, procfs, hugePages, DEFAULT_CAPACITY);
  }

  /**
   * @param executor runs operations; only this service's (never the API's threads)
   * @param capacity operations accepted and not ended, at most; more are refused ({@link
   *     BusyException}, HTTP 429)
   */
  public OperationService(
      AgentComponents agent,
      OperationJournal journal,
      ExecutorService executor,
      Clock clock,
      String nodeName,
      Procfs procfs,
      HugePages hugePages,
      int capacity)
      throws IOException {
    this(agent, journal, executor, clock, nodeName, procfs, hugePages, capacity, KEPT_FINISHED);
  }

  OperationService(
      AgentComponents agent,
      OperationJournal journal,
      ExecutorService executor,
      Clock clock,
      String nodeName,
      Procfs procfs,
      HugePages hugePages,
      int capacity,
      int keptFinished)
      throws IOException {
    this.keptFinished = keptFinished;
    this.queue =
        new OperationQueue(
            executor,
            capacity,
            this::run,
            id -> update(id, s -> failed(s, ErrorReason.Internal, "the agent is shutting down")));
    this.hugePages = hugePages;
    this.agent = agent;
    this.journal = journal;
    this.clock = clock;
    this.nodeName = nodeName;
    recover();
  }

  /** Accepts a request, or returns the operation already accepted for its idempotency key. */
  public synchronized OperationStatus submit(OperationRequest request) {
    validate(request);
    String existing = idByKey.get(request.idempotencyKey());
    if (existing != null) {
      OperationJournal.Entry e = byId.get(existing);
      if (!e.request().equals(request)) {
        throw new IdempotencyConflictException(
            "idempotency key '"
                + request.idempotencyKey()
                + "' was used for a different request (operation "
                + existing
                + ")");
      }
      return e.status();
    }
    queue.requireRoom();
    String id = UUID.randomUUID().toString();
    OperationStatus accepted =
        new OperationStatus(
            id,
            request.idempotencyKey(),
            request.kind(),
            OperationState.ACCEPTED,
            null,
            now(),
            null,
            null,
            null,
            null,
            null);
    OperationJournal.Entry entry = new OperationJournal.Entry(request, accepted);
    try {
      journal.write(entry); // accepted only once journaled (too large: 400)
    } catch (IOException e) {
      throw new UncheckedIOException("cannot journal operation " + id + ": " + e.getMessage(), e);
    }
    byId.put(id, entry);
    idByKey.put(request.idempotencyKey(), id);
    dispatch(id);
    return accepted;
  }

  public Optional<OperationStatus> get(String id) {
    return Optional.ofNullable(byId.get(id)).map(OperationJournal.Entry::status);
  }

  public List<OperationStatus> list() {
    return byId.values().stream().map(OperationJournal.Entry::status).toList();
  }

  private void dispatch(String id) {
    queue.dispatch(id, imageOf(byId.get(id).request()));
  }

  private void run(String id) {
    OperationJournal.Entry entry = byId.get(id);
    OperationRequest req = entry.request();
    try {
      update(id, s -> with(s, OperationState.RUNNING, "start"));
      Progress progress = step -> update(id, s -> with(s, OperationState.RUNNING, step));
      try (AutoCloseable thp = hugePagesFor(req)) {
        perform(id, req, progress);
      }
    } catch (OperationFailure e) {
      update(id, s -> failed(s, e.reason(), e.getMessage()));
    } catch (IllegalArgumentException e) {
      update(id, s -> failed(s, ErrorReason.InvalidRequest, e.getMessage()));
    } catch (Exception e) {
      update(id, s -> failed(s, ErrorReason.Internal, String.valueOf(e)));
    }
  }

  /**
   * The THP policy for one operation. A node whose THP switch cannot be written runs the operation
   * with its own policy: a tuning knob never fails an operation.
   */
  private AutoCloseable hugePagesFor(OperationRequest req) {
    if (hugePages == null || req.kind() == OperationKind.DELETE_IMAGE) {
      return () -> {};
    }
    try {
      AutoCloseable during = hugePages.during();
      return () -> {
        try {
          during.close();
        } catch (Exception e) {
          LOG.warnf("could not put the THP policy back: %s", e.getMessage());
        }
      };
    } catch (IOException | RuntimeException e) {
      LOG.warnf("THP policy not applied (the operation runs without it): %s", e.getMessage());
      return () -> {};
    }
  }

  private void perform(String id, OperationRequest req, Progress progress)
      throws OperationFailure, IOException {
    switch (req.kind()) {
      case CHECKPOINT -> {
        StoredImage image =
            agent.checkpoints().checkpoint(toCommand(id, req.checkpoint()), progress);
        update(id, s -> done(s, image.manifest().timings(), summary(image), null));
      }
      case RESTORE -> {
        RestoreRequest r = req.restore();
        RestoreResult result =
            agent
                .restores()
                .restore(
                    new RestoreCommand(
                        r.imageName(),
                        Optional.ofNullable(r.intoContainerId()),
                        r.targetGpuUuids() == null ? List.of() : r.targetGpuUuids(),
                        r.hot()
                            ? RestoreCommand.Stage.HOT
                            : r.prepared() ? RestoreCommand.Stage.WARM : RestoreCommand.Stage.RUN,
                        Duration.ofSeconds(r.timeoutSeconds()),
                        r.postRestoreHook(),
                        r.requiresSameGpu(),
                        r.importFrom(),
                        r.expectedImageDigest()),
                    progress);
        update(id, s -> done(s, result.timings(), summary(result.image()), result.pid()));
      }
      case ACTIVATE -> {
        OperationStatus prepared = preparedRestore(id, req.activate());
        RestoreRequest origin = byId.get(prepared.id()).request().restore();
        ActivateRequest a = req.activate();
        List<String> gpus =
            a.targetGpuUuids() != null && !a.targetGpuUuids().isEmpty()
                ? a.targetGpuUuids()
                : origin.targetGpuUuids() == null ? List.of() : origin.targetGpuUuids();
        Map<String, Long> timings =
            agent
                .restores()
                .activate(
                    new ActivateCommand(
                        prepared.restoredPid(),
                        origin.imageName(),
                        gpus,
                        Duration.ofSeconds(a.timeoutSeconds()),
                        origin.postRestoreHook(),
                        origin.requiresSameGpu(),
                        prepared.image() == null ? null : prepared.image().manifestDigest()));
        update(id, s -> done(s, timings, prepared.image(), prepared.restoredPid()));
      }
      case DELETE_IMAGE -> {
        agent.store().delete(req.deleteImageName());
        update(id, s -> done(s, Map.of(), null, null));
      }
    }
  }

  /**
   * The prepared restore an activation names, if it can be activated: a RESTORE that ran with
   * prepareOnly, succeeded, and no other activation has claimed.
   */
  private OperationStatus preparedRestore(String activationId, ActivateRequest a)
      throws OperationFailure {
    OperationJournal.Entry e = byId.get(a.restoreOperationId());
    if (e == null
        || e.request().kind() != OperationKind.RESTORE
        || !e.request().restore().prepared()) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "operation " + a.restoreOperationId() + " is not a prepared restore on this agent");
    }
    if (e.status().state() != OperationState.SUCCEEDED || e.status().restoredPid() == null) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "prepared restore " + a.restoreOperationId() + " is " + e.status().state());
    }
    for (OperationJournal.Entry other : byId.values()) {
      if (!other.status().id().equals(activationId)
          && other.request().kind() == OperationKind.ACTIVATE
          && other.request().activate().restoreOperationId().equals(a.restoreOperationId())
          && other.status().state() != OperationState.FAILED) {
        throw new OperationFailure(
            ErrorReason.InvalidRequest,
            "prepared restore "
                + a.restoreOperationId()
                + " was already activated by operation "
                + other.status().id());
      }
    }
    return e.status();
  }

  private CheckpointCommand toCommand(String id, CheckpointRequest c) {
    Map<String, String> labels = new HashMap<>(c.labels() == null ? Map.of() : c.labels());
    labels.put(CheckpointService.OPERATION_LABEL, id);
    return new CheckpointCommand(
        c.target(),
        c.imageName(),
        c.leaveRunning(),
        Duration.ofSeconds(c.timeoutSeconds()),
        labels,
        c.preCheckpointHook(),
        c.replace(),
        c.exportTo());
  }

  private ImageSummary summary(StoredImage image) {
    Manifest m = image.manifest();
    return new ImageSummary(
        image.name(),
        "hostpath://" + nodeName + image.dir(),
        m.sizeBytes(),
        image.digest(),
        m.createdAt(),
        m.criuVersion(),
        m.gpu());
  }

  /** Brings journaled operations back after a restart, never repeating half-done work. */
  private void recover() throws IOException {
    for (OperationJournal.Entry e : journal.readAll()) {
      byId.put(e.status().id(), e);
      idByKey.put(e.request().idempotencyKey(), e.status().id());
    }
    for (OperationJournal.Entry e : List.copyOf(byId.values())) {
      String id = e.status().id();
      switch (e.status().state()) {
        case ACCEPTED -> dispatch(id);
        case RUNNING -> recoverInterrupted(e);
        default -> {}
      }
    }
    // Staged images of operations that ended, or of no operation: nobody will commit them.
    agent.store().sweepStaging();
  }

  /** What recovery found, one line per interrupted operation (logged, and for readiness). */
  public List<String> recovered() {
    return List.copyOf(recovered);
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

  private void recoverInterrupted(OperationJournal.Entry e) {
    String id = e.status().id();
    OperationRequest req = e.request();
    if (req.kind() == OperationKind.CHECKPOINT) {
      recoverCheckpoint(id, req.checkpoint());
    } else if (req.kind() == OperationKind.DELETE_IMAGE) {
      dispatch(id);
    } else {
      String message =
          "the agent restarted during the "
              + req.kind().name().toLowerCase(java.util.Locale.ROOT)
              + "; it was not repeated: check whether the process runs before retrying";
      recovered.add(id + ": " + message);
      update(id, s -> failed(s, ErrorReason.Interrupted, message));
    }
  }

  /**
   * An agent that died during a checkpoint: CRIU got SIGTERM with it and undid the dump, or had
   * finished it. A complete staged image is committed (the operation succeeded: with
   * leaveRunning=false the workload is already gone); otherwise it is removed, the tree is checked
   * (resumed, sockets out of repair, CUDA unlocked) and the failure says what is true now.
   */
  private void recoverCheckpoint(String id, CheckpointRequest c) {
    Optional<StoredImage> done = committedBy(id, c.imageName());
    if (done.isPresent()) {
      succeeded(id, done.get(), "the image was committed before the restart");
      return;
    }
    List<Integer> frozen = List.of();
    String staging = "";
    try {
      for (ImageStore.Staged staged : agent.store().staged(id)) {
        try (ScratchDir dir = staged.dir()) {
          frozen = staged.pending().manifest().source().processes();
          if (staged.complete()) {
            StoredImage image = agent.store().commitRecovered(dir, staged.pending());
            succeeded(id, image, "CRIU had finished the dump: the staged image was committed");
            return;
          }
          staging = " (CRIU had not finished: its partial image was removed)";
        } catch (ImageExistsException | IOException | RuntimeException x) {
          staging = " (the staged image could not be committed: " + x.getMessage() + ")";
        }
      }
    } catch (IOException x) {
      staging = " (the staging area could not be read: " + x.getMessage() + ")";
    }
    TreeResumer.Undo undo = agent.checkpoints().undoInterrupted(c.target(), frozen);
    String message =
        "the agent restarted during the checkpoint; no image was kept"
            + staging
            + "; "
            + undo.describe();
    recovered.add(id + ": " + message);
    update(id, s -> failed(s, ErrorReason.Interrupted, message));
  }

  private void succeeded(String id, StoredImage image, String why) {
    recovered.add(id + ": " + why);
    update(id, s -> done(s, image.manifest().timings(), summary(image), null));
  }

  private Optional<StoredImage> committedBy(String id, String imageName) {
    try {
      StoredImage image = agent.store().open(imageName);
      Map<String, String> labels = image.manifest().labels();
      return labels != null && id.equals(labels.get(CheckpointService.OPERATION_LABEL))
          ? Optional.of(image)
          : Optional.empty();
    } catch (Exception notThere) {
      return Optional.empty();
    }
  }

  private static void validate(OperationRequest r) {
    if (r == null || r.kind() == null) {
      throw new IllegalArgumentException(
          "request needs a kind: CHECKPOINT, RESTORE, ACTIVATE or DELETE_IMAGE");
    }
    if (r.idempotencyKey() == null
        || r.idempotencyKey().isBlank()
        || r.idempotencyKey().length() > 253) {
      throw new IllegalArgumentException("idempotencyKey is required (at most 253 characters)");
    }
    switch (r.kind()) {
      case CHECKPOINT -> {
        CheckpointRequest c = r.checkpoint();
        if (c == null || c.target() == null) {
          throw new IllegalArgumentException("a CHECKPOINT needs checkpoint.target");
        }
        if ((c.target().pid() == null) == (c.target().containerId() == null)) {
          throw new IllegalArgumentException(
              "checkpoint.target needs exactly one of pid and containerId");
        }
        ImageStore.requireValidName(c.imageName());
        requireTimeout(c.timeoutSeconds());
      }
      case RESTORE -> {
        if (r.restore() == null) {
          throw new IllegalArgumentException("a RESTORE needs restore");
        }
        ImageStore.requireValidName(r.restore().imageName());
        requireTimeout(r.restore().timeoutSeconds());
      }
      case ACTIVATE -> {
        if (r.activate() == null || r.activate().restoreOperationId() == null) {
          throw new IllegalArgumentException("an ACTIVATE needs activate.restoreOperationId");
        }
        requireTimeout(r.activate().timeoutSeconds());
      }
      case DELETE_IMAGE -> ImageStore.requireValidName(r.deleteImageName());
    }
  }

  private static void requireTimeout(int seconds) {
    if (seconds < 1 || seconds > 86400) {
      throw new IllegalArgumentException(
          "timeoutSeconds must be between 1 and 86400, was " + seconds);
    }
  }

  private static String imageOf(OperationRequest r) {
    return switch (r.kind()) {
      case CHECKPOINT -> r.checkpoint().imageName();
      case RESTORE -> r.restore().imageName();
      case ACTIVATE -> "activate:" + r.activate().restoreOperationId();
      case DELETE_IMAGE -> r.deleteImageName();
    };
  }

  private OperationStatus with(OperationStatus s, OperationState state, String step) {
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        state,
        step,
        s.submittedAt(),
        null,
        s.timings(),
        s.image(),
        null,
        null);
  }

  private OperationStatus done(
      OperationStatus s, Map<String, Long> timings, ImageSummary image, Integer pid) {
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        OperationState.SUCCEEDED,
        null,
        s.submittedAt(),
        now(),
        new LinkedHashMap<>(timings),
        image,
        pid,
        null);
  }

  private OperationStatus failed(OperationStatus s, ErrorReason reason, String message) {
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        OperationState.FAILED,
        s.step(),
        s.submittedAt(),
        now(),
        s.timings(),
        null,
        null,
        new OperationError(reason, message));
  }

  private synchronized void update(
      String id, java.util.function.UnaryOperator<OperationStatus> change) {
    OperationJournal.Entry e = byId.get(id);
    OperationJournal.Entry next = new OperationJournal.Entry(e.request(), change.apply(e.status()));
    if (next.status().state().isTerminal() && !e.status().state().isTerminal()) {
      forgetOldest(id); // before this one counts as finished: readers never see more than kept
    }
    byId.put(id, next);
    try {
      journal.write(next);
    } catch (IOException | RuntimeException ex) {
      // Kept in memory and answered; a restart without the write treats the step as interrupted.
      LOG.errorf("cannot journal operation %s: %s", id, ex.getMessage());
    }
  }

  /** Keeps the journal and memory bounded: the oldest finished operations go first. */
  private void forgetOldest(String finishing) {
    List<OperationJournal.Entry> finished =
        byId.values().stream()
            .filter(x -> x.status().state().isTerminal() && !x.status().id().equals(finishing))
            .sorted(
                java.util.Comparator.comparing(
                    (OperationJournal.Entry x) -> String.valueOf(x.status().finishedAt())))
            .toList();
    for (int i = 0; i < finished.size() - (keptFinished - 1); i++) {
      OperationStatus old = finished.get(i).status();
      try {
        journal.delete(old.id());
        byId.remove(old.id());
        idByKey.remove(old.idempotencyKey(), old.id());
      } catch (IOException ex) {
        LOG.warnf("cannot forget operation %s: %s", old.id(), ex.getMessage());
      }
    }
  }

  private String now() {
    return clock.instant().toString();
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
}
