package dev.warmstart.agent.operation;

import dev.warmstart.agent.activation.ActivateCommand;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.checkpoint.CheckpointService;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.RestoreRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Runs one accepted operation to its end: turns the request into a command for the checkpoint,
 * restore or activation service, and records each step and the outcome in the ledger. A failure the
 * agent knows ({@link OperationFailure}) keeps its reason; anything else is a bug, logged with its
 * stack trace and reported as Internal.
 */
final class OperationRunner {
  private static final Logger LOG = Logger.getLogger(OperationRunner.class);
  private final AgentComponents agent;
  private final OperationLedger ledger;
  private final StatusTransitions statuses;
  private final ImageSummaries summaries;
  private final HugePages hugePages;

  /**
   * @param hugePages THP policy during checkpoints and restores; null: leave the node's alone
   */
  OperationRunner(
      AgentComponents agent,
      OperationLedger ledger,
      StatusTransitions statuses,
      ImageSummaries summaries,
      HugePages hugePages) {
    this.agent = agent;
    this.ledger = ledger;
    this.statuses = statuses;
    this.summaries = summaries;
    this.hugePages = hugePages;
  }

  void run(String id) {
    OperationRequest req = ledger.byId(id).orElseThrow().request();
    try {
      ledger.update(id, s -> statuses.running(s, "start"));
      Progress progress = step -> ledger.update(id, s -> statuses.running(s, step));
      try (AutoCloseable thp = hugePagesFor(req)) {
        perform(id, req, progress);
      }
    } catch (OperationFailure e) {
      ledger.update(id, s -> statuses.failed(s, e.reason(), e.getMessage()));
    } catch (IllegalArgumentException e) {
      ledger.update(id, s -> statuses.failed(s, ErrorReason.InvalidRequest, e.getMessage()));
    } catch (Exception e) {
      LOG.errorf(e, "operation %s (%s) failed unexpectedly", id, req.kind());
      ledger.update(id, s -> statuses.failed(s, ErrorReason.Internal, String.valueOf(e)));
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
            agent.checkpoints().checkpoint(checkpointCommand(id, req.checkpoint()), progress);
        ledger.update(
            id, s -> statuses.succeeded(s, image.manifest().timings(), summaries.of(image), null));
      }
      case RESTORE -> {
        RestoreResult result = agent.restores().restore(restoreCommand(req.restore()), progress);
        ledger.update(
            id,
            s ->
                statuses.succeeded(
                    s, result.timings(), summaries.of(result.image()), result.pid()));
      }
      case ACTIVATE -> {
        OperationStatus prepared = preparedRestore(id, req.activate());
        RestoreRequest origin = ledger.byId(prepared.id()).orElseThrow().request().restore();
        Map<String, Long> timings =
            agent.activations().activate(activateCommand(req.activate(), prepared, origin));
        ledger.update(
            id, s -> statuses.succeeded(s, timings, prepared.image(), prepared.restoredPid()));
      }
      case DELETE_IMAGE -> {
        agent.store().delete(req.deleteImageName());
        ledger.update(id, s -> statuses.succeeded(s, Map.of(), null, null));
      }
    }
  }

  private static CheckpointCommand checkpointCommand(String id, CheckpointRequest c) {
    Map<String, String> labels = new HashMap<>(c.labels() == null ? Map.of() : c.labels());
    labels.put(CheckpointService.OPERATION_LABEL, id);
    return CheckpointCommand.of(c.target(), c.imageName(), Duration.ofSeconds(c.timeoutSeconds()))
        .leaveRunning(c.leaveRunning())
        .labels(labels)
        .preCheckpointHook(c.preCheckpointHook())
        .replace(c.replace())
        .exportTo(c.exportTo())
        .build();
  }

  private static RestoreCommand restoreCommand(RestoreRequest r) {
    return RestoreCommand.of(r.imageName(), Duration.ofSeconds(r.timeoutSeconds()))
        .intoContainer(Optional.ofNullable(r.intoContainerId()))
        .targetGpus(r.targetGpuUuids())
        .stage(r.stage())
        .postRestoreHook(r.postRestoreHook())
        .sameGpu(r.requiresSameGpu())
        .importFrom(r.importFrom())
        .expectedDigest(r.expectedImageDigest())
        .build();
  }

  /** The activation's own GPUs, else the prepared restore's; its hook and GPU rule. */
  private static ActivateCommand activateCommand(
      ActivateRequest a, OperationStatus prepared, RestoreRequest origin) {
    List<String> gpus =
        a.targetGpuUuids() != null && !a.targetGpuUuids().isEmpty()
            ? a.targetGpuUuids()
            : origin.targetGpuUuids();
    return ActivateCommand.of(
            prepared.restoredPid(), origin.imageName(), Duration.ofSeconds(a.timeoutSeconds()))
        .targetGpus(gpus)
        .postRestoreHook(origin.postRestoreHook())
        .sameGpu(origin.requiresSameGpu())
        .imageDigest(prepared.image() == null ? null : prepared.image().manifestDigest())
        .build();
  }

  /**
   * The prepared restore an activation names, if it can be activated: a RESTORE that ran with
   * stopped short of RUNNING, succeeded, and no other activation has claimed.
   */
  private OperationStatus preparedRestore(String activationId, ActivateRequest a)
      throws OperationFailure {
    OperationJournal.Entry e = ledger.byId(a.restoreOperationId()).orElse(null);
    if (e == null
        || e.request().kind() != OperationKind.RESTORE
        || !e.request().restore().stage().standby()) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "operation " + a.restoreOperationId() + " is not a prepared restore on this agent");
    }
    if (e.status().state() != OperationState.SUCCEEDED || e.status().restoredPid() == null) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "prepared restore " + a.restoreOperationId() + " is " + e.status().state());
    }
    for (OperationJournal.Entry other : ledger.all()) {
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
}
