package dev.warmstart.agent.ops;

import dev.warmstart.agent.criu.CriuFailure;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs agent operations asynchronously. A request is accepted once per idempotency key (the same
 * key returns the first operation), journaled before it runs and at each step, and recovered on
 * start: accepted work runs, work interrupted mid-way is failed with reason Interrupted rather than
 * repeated, and a workload an interrupted checkpoint left stopped is resumed. Operations on one
 * image run one at a time; others run in parallel.
 */
public final class OperationService {
  private final AgentComponents agent;
  private final OperationJournal journal;
  private final ExecutorService executor;
  private final Clock clock;
  private final String nodeName;
  private final TreeResumer resumer;
  private final Procfs procfs;
  private final Map<String, OperationJournal.Entry> byId = new ConcurrentHashMap<>();
  private final Map<String, String> idByKey = new ConcurrentHashMap<>();
  private final Map<String, ReentrantLock> imageLocks = new ConcurrentHashMap<>();

  private final HugePages hugePages;

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
    this.hugePages = hugePages;
    this.agent = agent;
    this.journal = journal;
    this.executor = executor;
    this.clock = clock;
    this.nodeName = nodeName;
    this.resumer = new TreeResumer(procfs);
    this.procfs = procfs;
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
    save(new OperationJournal.Entry(request, accepted));
    idByKey.put(request.idempotencyKey(), id);
    executor.execute(() -> run(id));
    return accepted;
  }

  public Optional<OperationStatus> get(String id) {
    return Optional.ofNullable(byId.get(id)).map(OperationJournal.Entry::status);
  }

  public List<OperationStatus> list() {
    return byId.values().stream().map(OperationJournal.Entry::status).toList();
  }

  private void run(String id) {
    OperationJournal.Entry entry = byId.get(id);
    OperationRequest req = entry.request();
    ReentrantLock lock = imageLocks.computeIfAbsent(imageOf(req), k -> new ReentrantLock());
    lock.lock();
    try {
      update(id, s -> with(s, OperationState.RUNNING, "start"));
      Progress progress = step -> update(id, s -> with(s, OperationState.RUNNING, step));
      try (AutoCloseable thp =
          hugePages != null && req.kind() != OperationKind.DELETE_IMAGE
              ? hugePages.during()
              : () -> {}) {
        perform(id, req, progress);
      }
    } catch (CriuFailure e) {
      update(id, s -> failed(s, e.reason(), e.getMessage()));
    } catch (IllegalArgumentException e) {
      update(id, s -> failed(s, ErrorReason.InvalidRequest, e.getMessage()));
    } catch (Exception e) {
      update(id, s -> failed(s, ErrorReason.Internal, String.valueOf(e)));
    } finally {
      lock.unlock();
    }
  }

  private void perform(String id, OperationRequest req, Progress progress)
      throws CriuFailure, IOException {
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
                        r.importFrom()),
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
                        origin.requiresSameGpu()));
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
      throws CriuFailure {
    OperationJournal.Entry e = byId.get(a.restoreOperationId());
    if (e == null
        || e.request().kind() != OperationKind.RESTORE
        || !e.request().restore().prepared()) {
      throw new CriuFailure(
          ErrorReason.InvalidRequest,
          "operation " + a.restoreOperationId() + " is not a prepared restore on this agent");
    }
    if (e.status().state() != OperationState.SUCCEEDED || e.status().restoredPid() == null) {
      throw new CriuFailure(
          ErrorReason.InvalidRequest,
          "prepared restore " + a.restoreOperationId() + " is " + e.status().state());
    }
    for (OperationJournal.Entry other : byId.values()) {
      if (!other.status().id().equals(activationId)
          && other.request().kind() == OperationKind.ACTIVATE
          && other.request().activate().restoreOperationId().equals(a.restoreOperationId())
          && other.status().state() != OperationState.FAILED) {
        throw new CriuFailure(
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
    labels.put("warmstart.dev/operation-id", id);
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
        case ACCEPTED -> executor.execute(() -> run(id));
        case RUNNING -> recoverInterrupted(e);
        default -> {}
      }
    }
  }

  private void recoverInterrupted(OperationJournal.Entry e) {
    String id = e.status().id();
    OperationRequest req = e.request();
    if (req.kind() == OperationKind.CHECKPOINT) {
      Optional<StoredImage> done = committedBy(id, req.checkpoint().imageName());
      if (done.isPresent()) {
        update(id, s -> done(s, done.get().manifest().timings(), summary(done.get()), null));
        return;
      }
      Integer pid = req.checkpoint().target().pid();
      int resumed = pid == null ? 0 : resumer.resume(procfs.tree(pid));
      update(
          id,
          s ->
              failed(
                  s,
                  ErrorReason.Interrupted,
                  "the agent restarted during the checkpoint; no image was kept and the workload is running"
                      + (resumed > 0 ? " (resumed " + resumed + " stopped task(s))" : "")));
    } else if (req.kind() == OperationKind.DELETE_IMAGE) {
      executor.execute(() -> run(id));
    } else {
      update(
          id,
          s ->
              failed(
                  s,
                  ErrorReason.Interrupted,
                  "the agent restarted during the restore; it was not repeated: check whether the process runs before retrying"));
    }
  }

  private Optional<StoredImage> committedBy(String id, String imageName) {
    try {
      StoredImage image = agent.store().open(imageName);
      Map<String, String> labels = image.manifest().labels();
      return labels != null && id.equals(labels.get("warmstart.dev/operation-id"))
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
    save(new OperationJournal.Entry(e.request(), change.apply(e.status())));
  }

  private void save(OperationJournal.Entry e) {
    try {
      journal.write(e);
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot journal operation " + e.status().id(), ex);
    }
    byId.put(e.status().id(), e);
  }

  private String now() {
    return clock.instant().toString();
  }

  /** The same idempotency key came with another request body. */
  public static final class IdempotencyConflictException extends RuntimeException {
    public IdempotencyConflictException(String message) {
      super(message);
    }
  }
}
