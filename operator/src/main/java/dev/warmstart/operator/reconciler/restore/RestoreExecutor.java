package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.OperationTracker;
import dev.warmstart.operator.reconciler.OperationTracker.Known;
import dev.warmstart.operator.reconciler.OperationTracker.Lost;
import dev.warmstart.operator.reconciler.OperationTracker.Outcome;
import dev.warmstart.operator.reconciler.OperationTracker.Refused;
import dev.warmstart.operator.reconciler.OperationTracker.Unreachable;
import dev.warmstart.operator.reconciler.restore.RestoreAction.Stage;
import dev.warmstart.operator.status.ConditionReason;
import dev.warmstart.operator.status.RestoreStatusFactory;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Carries out a {@link RestoreAction}: the API writes (the placeholder pod through its dependent
 * resource in the reconcile's {@link RestoreWorld}, the claim), the agent calls (through the {@link
 * OperationTracker}), events and metrics; returns the status to write and when to look again.
 */
public final class RestoreExecutor {
  private static final String KIND = "restore";
  private static final Duration CLAIM_CONFLICT_RETRY = Duration.ofSeconds(1);

  private final KubernetesClient client;
  private final OperationTracker operations;
  private final RestoreDecider decider;
  private final RestoreStatusFactory status;
  private final EventRecorder events;
  private final PlaceholderPods placeholders;
  private final PoolClaim pools;
  private final RestoreWorld world;

  public RestoreExecutor(
      KubernetesClient client,
      OperationTracker operations,
      RestoreDecider decider,
      RestoreStatusFactory status,
      EventRecorder events,
      OperatorConfig config) {
    this.client = client;
    this.operations = operations;
    this.decider = decider;
    this.status = status;
    this.events = events;
    this.placeholders = new PlaceholderPods(config.placeholderImage());
    this.pools = new PoolClaim(client);
    this.world = null;
  }

  private RestoreExecutor(RestoreExecutor x, RestoreWorld world) {
    this.client = x.client;
    this.operations = x.operations;
    this.decider = x.decider;
    this.status = x.status;
    this.events = x.events;
    this.placeholders = x.placeholders;
    this.pools = x.pools;
    this.world = world;
  }

  /** This executor acting in one reconcile's world (its placeholder pod's dependent resource). */
  RestoreExecutor in(RestoreWorld world) {
    return new RestoreExecutor(this, world);
  }

  Decision<GpuRestoreStatus> recheck(GpuRestore cr) {
    return Decision.after(cr.getStatus(), operations.pollInterval());
  }

  Decision<GpuRestoreStatus> reject(GpuRestore cr, ConditionReason reason, String msg) {
    events.warning(cr, EventReason.RestoreRejected, msg);
    operations.failed(KIND, reason, null);
    return Decision.done(status.rejected(cr, reason, msg));
  }

  Decision<GpuRestoreStatus> fail(GpuRestore cr, ConditionReason reason, String msg) {
    world.deletePlaceholder(cr);
    events.warning(cr, EventReason.RestoreFailed, msg + "; placeholder removed");
    operations.failed(KIND, reason, null);
    return Decision.done(status.failed(cr, reason, msg));
  }

  Decision<GpuRestoreStatus> removePlaceholder(GpuRestore cr) {
    world.deletePlaceholder(cr);
    return Decision.done(cr.getStatus());
  }

  Decision<GpuRestoreStatus> failPooled(GpuRestore cr, ConditionReason reason, String msg) {
    if (cr.getStatus() != null && cr.getStatus().standbyName() != null) {
      pools.release(cr);
    }
    events.warning(cr, EventReason.RestoreFailed, msg);
    operations.failed(KIND, reason, null);
    return Decision.done(status.failed(cr, reason, msg));
  }

  Decision<GpuRestoreStatus> waitFor(GpuRestore cr, ConditionReason reason, String msg) {
    return Decision.after(status.waiting(cr, reason, msg), operations.pollInterval());
  }

  Decision<GpuRestoreStatus> createPlaceholder(GpuRestore cr, RestoreAction.CreatePlaceholder p) {
    String name = PlaceholderPods.podName(cr);
    try {
      world.createPlaceholder(cr, placeholders.build(cr, p.artifact(), p.node(), p.claim()));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // Not in the placeholder informer yet it exists: a pod of that name that is not labelled as
      // a placeholder (a user's), or ours relabelled; JOSDK keeps its own creations in the cache.
      Pod existing =
          client.pods().inNamespace(cr.getMetadata().getNamespace()).withName(name).get();
      if (existing == null || !PlaceholderPods.ownedBy(existing, cr)) {
        return reject(cr, ConditionReason.PlaceholderFailed, RestoreDecider.notOurs(name));
      }
      return awaitPlaceholder(cr, name, "waiting for placeholder pod " + name);
    }
    events.normal(
        cr,
        EventReason.PlaceholderCreated,
        "placeholder pod " + name + (p.node() == null ? "" : " on node " + p.node()));
    return Decision.after(
        status.scheduling(cr, name, "placeholder pod " + name + " created"),
        operations.pollInterval());
  }

  Decision<GpuRestoreStatus> awaitPlaceholder(GpuRestore cr, String pod, String msg) {
    return Decision.after(status.scheduling(cr, pod, msg), operations.pollInterval());
  }

  Decision<GpuRestoreStatus> dispatch(GpuRestore cr, RestoreAction.Dispatch d) {
    Outcome o = operations.submit(d.node(), d.request(), attempts(cr));
    if (o instanceof Known k) {
      events.normal(
          cr, EventReason.RestoreStarted, "restoring into " + d.podName() + " on " + d.node());
      return Decision.after(
          status.dispatched(cr, d.node(), k.operation().id()), operations.pollInterval());
    }
    return o instanceof Refused r
        ? fail(cr, ConditionReason.RestoreFailed, r.message())
        : retry(cr, d.node(), (Unreachable) o);
  }

  Decision<GpuRestoreStatus> activate(GpuRestore cr, RestoreAction.Activate a) {
    Outcome o = operations.submit(a.node(), a.request(), attempts(cr));
    if (o instanceof Known k) {
      return Decision.after(status.activating(cr, k.operation().id()), operations.pollInterval());
    }
    return o instanceof Refused r
        ? fail(cr, ConditionReason.StandbyLost, r.message())
        : retry(cr, a.node(), (Unreachable) o);
  }

  Decision<GpuRestoreStatus> follow(GpuRestore cr, RestoreAction.Follow f) {
    String what = f.stage() == Stage.ACTIVATION ? "activation" : "operation";
    Outcome o = operations.poll(f.node(), f.operationId(), what, attempts(cr));
    if (o instanceof Known k) {
      return decider.afterOperation(cr, f.stage(), k.operation()).applyTo(cr, this);
    }
    return o instanceof Lost l
        ? fail(cr, ConditionReason.OperationLost, l.message())
        : retry(cr, f.node(), (Unreachable) o);
  }

  Decision<GpuRestoreStatus> claim(GpuRestore cr, RestoreAction.Claim c) {
    GpuRestore m = c.standby();
    if (!pools.take(cr, m)) {
      return Decision.after(cr.getStatus(), CLAIM_CONFLICT_RETRY);
    }
    events.normal(
        cr,
        EventReason.StandbyClaimed,
        "took standby " + m.getMetadata().getName() + " of pool " + c.pool());
    return Decision.after(
        status.claimed(
            cr, m.getMetadata().getName(), m.getStatus().podName(), m.getStatus().nodeName()),
        operations.pollInterval());
  }

  Decision<GpuRestoreStatus> progress(GpuRestore cr, String step) {
    return Decision.after(status.progressing(cr, step), operations.pollInterval());
  }

  Decision<GpuRestoreStatus> standbyReady(GpuRestore cr, OperationStatus op) {
    events.normal(
        cr,
        EventReason.StandbyReady,
        cr.getSpec().standby()
            + " standby ready as PID "
            + op.restoredPid()
            + " in "
            + cr.getStatus().podName());
    return Decision.after(
        status.standby(cr, op.restoredPid(), op.timings()), operations.pollInterval());
  }

  Decision<GpuRestoreStatus> restored(GpuRestore cr, OperationStatus op) {
    events.normal(
        cr,
        EventReason.RestoreSucceeded,
        "restored as PID " + op.restoredPid() + " in " + cr.getStatus().podName());
    operations.succeeded(KIND, op, operations.sinceSubmitted(op));
    return Decision.done(status.running(cr, op.restoredPid(), op.timings()));
  }

  Decision<GpuRestoreStatus> activated(GpuRestore cr, OperationStatus op) {
    Long total = op.timings() == null ? null : op.timings().get("total");
    Map<String, Long> timings = new LinkedHashMap<>();
    timings.put("activation", total);
    events.normal(cr, EventReason.StandbyActivated, "activated in " + total + " ms");
    operations.succeeded("activate", op, operations.sinceSubmitted(op));
    return Decision.done(status.running(cr, op.restoredPid(), timings));
  }

  Decision<GpuRestoreStatus> tookOver(GpuRestore cr, Map<String, Long> timings) {
    return Decision.done(status.running(cr, null, timings));
  }

  private Decision<GpuRestoreStatus> retry(GpuRestore cr, String node, Unreachable u) {
    if (u.retryAfter().isEmpty()) {
      return fail(cr, u.reason(), u.message());
    }
    events.warning(cr, EventReason.AgentRetry, u.message());
    return Decision.after(status.retrying(cr, node, u.reason(), u.message()), u.retryAfter().get());
  }

  private static int attempts(GpuRestore cr) {
    return cr.getStatus() == null || cr.getStatus().attempts() == null
        ? 0
        : cr.getStatus().attempts();
  }
}
