package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.agent.ImageSummary;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.OperationTracker;
import dev.warmstart.operator.reconciler.OperationTracker.Known;
import dev.warmstart.operator.reconciler.OperationTracker.Lost;
import dev.warmstart.operator.reconciler.OperationTracker.Outcome;
import dev.warmstart.operator.reconciler.OperationTracker.Refused;
import dev.warmstart.operator.reconciler.OperationTracker.Unreachable;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;

/**
 * Carries out a {@link CheckpointAction}: storage pod writes, agent calls (through the {@link
 * OperationTracker}), events and metrics; returns the status to write and when to look again.
 */
public final class CheckpointExecutor {
  private static final String KIND = "checkpoint";

  private final KubernetesClient client;
  private final OperationTracker operations;
  private final CheckpointDecider decider;
  private final CheckpointStatusFactory status;
  private final EventRecorder events;
  private final OperatorMetrics metrics;
  private final StoragePods storagePods;
  private final Clock clock;

  public CheckpointExecutor(
      KubernetesClient client,
      OperationTracker operations,
      CheckpointDecider decider,
      CheckpointStatusFactory status,
      EventRecorder events,
      OperatorMetrics metrics,
      OperatorConfig config,
      Clock clock) {
    this.client = client;
    this.operations = operations;
    this.decider = decider;
    this.status = status;
    this.events = events;
    this.metrics = metrics;
    this.storagePods = new StoragePods(config.placeholderImage());
    this.clock = clock;
  }

  Decision<GpuCheckpointStatus> reject(GpuCheckpoint cr, ConditionReason reason, String msg) {
    events.warning(cr, EventReason.CheckpointRejected, msg);
    operations.failed(KIND, reason, null);
    return Decision.done(status.rejected(cr, reason, msg));
  }

  Decision<GpuCheckpointStatus> waitFor(GpuCheckpoint cr, ConditionReason reason, String msg) {
    return Decision.after(status.waiting(cr, reason, msg), operations.pollInterval());
  }

  Decision<GpuCheckpointStatus> createStoragePod(
      GpuCheckpoint cr, CheckpointAction.CreateStoragePod c) {
    try {
      client.resource(storagePods.build(cr, c.claim(), c.node())).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // created by an earlier reconcile the storage pod cache had not seen yet
    }
    return waitFor(cr, ConditionReason.StoragePending, c.waitMessage());
  }

  Decision<GpuCheckpointStatus> fail(GpuCheckpoint cr, ConditionReason reason, String msg) {
    deleteStoragePod(cr);
    events.warning(cr, EventReason.CheckpointFailed, msg);
    operations.failed(KIND, reason, tookSinceDispatch(cr));
    return Decision.done(status.failed(cr, reason, msg));
  }

  Decision<GpuCheckpointStatus> dispatch(GpuCheckpoint cr, CheckpointAction.Dispatch d) {
    Outcome o = operations.submit(d.node(), d.request(), attempts(cr));
    if (o instanceof Known k) {
      String id = k.operation().id();
      events.normal(
          cr,
          EventReason.CheckpointStarted,
          "checkpoint of " + d.what() + " on node " + d.node() + " (operation " + id + ")");
      return Decision.after(status.dispatched(cr, d.node(), id), operations.pollInterval());
    }
    if (o instanceof Refused r) {
      events.warning(cr, EventReason.CheckpointRejected, r.message());
      return Decision.done(status.rejected(cr, ConditionReason.CheckpointFailed, r.message()));
    }
    return retry(cr, d.node(), (Unreachable) o);
  }

  Decision<GpuCheckpointStatus> follow(
      GpuCheckpoint cr, CheckpointAction.Follow f, CheckpointWorld world) {
    Outcome o = operations.poll(f.node(), f.operationId(), "operation", attempts(cr));
    if (o instanceof Known k) {
      // the source pod is read once, at success, for the artifact's pod template
      CheckpointObservation observed =
          k.operation().state() == OperationState.SUCCEEDED
              ? f.observed().withSourcePod(world)
              : f.observed();
      return decider.afterOperation(observed, k.operation()).applyTo(cr, this, world);
    }
    return o instanceof Lost l
        ? fail(cr, ConditionReason.OperationLost, l.message())
        : retry(cr, f.node(), (Unreachable) o);
  }

  Decision<GpuCheckpointStatus> progress(GpuCheckpoint cr, String step) {
    return Decision.after(status.progressing(cr, step), operations.pollInterval());
  }

  Decision<GpuCheckpointStatus> succeed(GpuCheckpoint cr, CheckpointAction.Succeed s) {
    deleteStoragePod(cr);
    ImageSummary img = s.op().image();
    events.normal(
        cr,
        EventReason.CheckpointSucceeded,
        "stored " + (img.sizeBytes() >> 20) + " MiB at " + s.artifact().location());
    operations.succeeded(KIND, s.op(), tookSinceDispatch(cr));
    metrics.checkpointSize(img.sizeBytes(), OperationTracker.gpuModel(s.op()));
    return Decision.done(status.succeeded(cr, s.artifact(), s.op().timings()));
  }

  private Decision<GpuCheckpointStatus> retry(GpuCheckpoint cr, String node, Unreachable u) {
    if (u.retryAfter().isEmpty()) {
      return fail(cr, u.reason(), u.message());
    }
    events.warning(cr, EventReason.AgentRetry, u.message());
    return Decision.after(status.retrying(cr, node, u.reason(), u.message()), u.retryAfter().get());
  }

  /** The storage pod goes as soon as the copy is done or failed: an RWO claim is free again. */
  private void deleteStoragePod(GpuCheckpoint cr) {
    if (StoragePods.claim(cr).isPresent()) {
      client
          .pods()
          .inNamespace(cr.getMetadata().getNamespace())
          .withName(StoragePods.podName(cr))
          .delete();
    }
  }

  private Duration tookSinceDispatch(GpuCheckpoint cr) {
    return CheckpointDecider.dispatchedAt(cr)
        .map(t -> Duration.between(t, clock.instant()))
        .orElse(null);
  }

  private static int attempts(GpuCheckpoint cr) {
    return cr.getStatus() == null || cr.getStatus().attempts() == null
        ? 0
        : cr.getStatus().attempts();
  }
}
