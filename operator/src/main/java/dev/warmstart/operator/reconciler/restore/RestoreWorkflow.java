package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.RestoreRequest;
import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuRemapPolicy;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.api.v1alpha1.StandbyMode;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.agent.AgentRejectedException;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Backoff;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.checkpoint.StoragePods;
import dev.warmstart.operator.reconciler.pool.PoolWorkflow;
import dev.warmstart.operator.status.ConditionReason;
import dev.warmstart.operator.status.RestoreStatusFactory;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The GpuRestore state machine, one step per reconcile: find the checkpoint, create the placeholder
 * pod, and when it runs ask its node's agent to restore into it (idempotency key from the CR's
 * UID); poll until done. A failure after the placeholder exists deletes it.
 */
@ApplicationScoped
public class RestoreWorkflow {
  private static final String HOSTPATH = "hostpath://";

  private final KubernetesClient client;
  private final NodeAgentClient agents;
  private final RestoreStatusFactory status;
  private final EventRecorder events;
  private final OperatorMetrics metrics;
  private final OperatorConfig config;
  private final Clock clock;
  private final PlaceholderPods placeholders;

  public RestoreWorkflow(
      KubernetesClient client,
      NodeAgentClient agents,
      RestoreStatusFactory status,
      EventRecorder events,
      OperatorMetrics metrics,
      OperatorConfig config,
      Clock clock) {
    this.client = client;
    this.agents = agents;
    this.status = status;
    this.events = events;
    this.metrics = metrics;
    this.config = config;
    this.clock = clock;
    this.placeholders = new PlaceholderPods(config.placeholderImage());
  }

  public Decision<GpuRestoreStatus> step(GpuRestore cr) {
    GpuRestoreStatus s = cr.getStatus();
    if (s != null && s.phase() != null && s.phase().isTerminal()) {
      return Decision.done(s);
    }
    if (cr.getSpec().poolName() != null) {
      return fromPool(cr);
    }
    if (s != null && s.activationOperationId() != null) {
      return followActivation(cr);
    }
    if (s != null && s.phase() == RestorePhase.Standby) {
      return activateWhenAsked(cr);
    }
    if (s != null && s.operationId() != null) {
      return follow(cr);
    }
    String ns = cr.getMetadata().getNamespace();
    GpuCheckpoint ckpt =
        client
            .resources(GpuCheckpoint.class)
            .inNamespace(ns)
            .withName(cr.getSpec().checkpointName())
            .get();
    if (ckpt == null) {
      return reject(
          cr,
          ConditionReason.CheckpointNotFound,
          "GpuCheckpoint " + cr.getSpec().checkpointName() + " not found in " + ns);
    }
    CheckpointPhase phase = ckpt.getStatus() == null ? null : ckpt.getStatus().phase();
    if (phase == CheckpointPhase.Failed) {
      return reject(
          cr,
          ConditionReason.CheckpointFailed,
          "GpuCheckpoint "
              + ckpt.getMetadata().getName()
              + " failed: "
              + ckpt.getStatus().message());
    }
    if (phase != CheckpointPhase.Succeeded || ckpt.getStatus().artifact() == null) {
      return Decision.after(
          status.waiting(
              cr,
              ConditionReason.CheckpointNotReady,
              "waiting for GpuCheckpoint " + ckpt.getMetadata().getName() + " (" + phase + ")"),
          config.pollInterval());
    }
    CheckpointArtifact artifact = ckpt.getStatus().artifact();
    Optional<PersistentVolumeClaimStorage> claim = StoragePods.claim(ckpt);
    if (claim.isPresent() && artifact.sourcePodTemplate() != null) {
      // Kept on a claim: any node that can mount it; the placeholder mounts it for the import.
      return placeholder(cr, artifact, null, claim);
    }
    if (artifact.location() == null
        || !artifact.location().startsWith(HOSTPATH)
        || artifact.sourcePodTemplate() == null) {
      return reject(
          cr,
          ConditionReason.CheckpointNotFound,
          "GpuCheckpoint "
              + ckpt.getMetadata().getName()
              + " has no restorable node-local artifact");
    }
    String node = artifact.location().substring(HOSTPATH.length()).split("/", 2)[0];
    if (cr.getSpec().nodeName() != null && !cr.getSpec().nodeName().equals(node)) {
      return reject(
          cr,
          ConditionReason.NodeMismatch,
          "the checkpoint is kept on node "
              + node
              + " only; spec.nodeName asks for "
              + cr.getSpec().nodeName());
    }
    return placeholder(cr, artifact, node, Optional.empty());
  }

  private Decision<GpuRestoreStatus> placeholder(
      GpuRestore cr,
      CheckpointArtifact artifact,
      String node,
      Optional<PersistentVolumeClaimStorage> claim) {
    String name = PlaceholderPods.podName(cr);
    Pod pod = client.pods().inNamespace(cr.getMetadata().getNamespace()).withName(name).get();
    if (pod == null) {
      pod = client.resource(placeholders.build(cr, artifact, node, claim)).create();
      events.normal(
          cr,
          EventReason.PlaceholderCreated,
          "placeholder pod " + name + (node == null ? "" : " on node " + node));
      return Decision.after(
          status.scheduling(cr, name, "placeholder pod " + name + " created"),
          config.pollInterval());
    }
    if (!PlaceholderPods.ownedBy(pod, cr)) {
      return reject(
          cr,
          ConditionReason.PlaceholderFailed,
          "pod " + name + " exists and is not this restore's placeholder: set spec.podName");
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Failed".equals(phase) || "Succeeded".equals(phase)) {
      return failAndClean(
          cr,
          ConditionReason.PlaceholderFailed,
          "placeholder pod " + name + " ended (" + phase + ")");
    }
    Optional<String> unschedulable = unschedulable(pod);
    if (unschedulable.isPresent()) {
      return failAndClean(cr, ConditionReason.PlaceholderUnschedulable, unschedulable.get());
    }
    Optional<String> containerId = runningContainerId(pod, artifact.containerName());
    if (!"Running".equals(phase) || containerId.isEmpty()) {
      Instant created =
          Instant.parse(
              pod.getMetadata().getCreationTimestamp() != null
                  ? pod.getMetadata().getCreationTimestamp()
                  : clock.instant().toString());
      if (created.plus(config.placeholderTimeout()).isBefore(clock.instant())) {
        return failAndClean(
            cr,
            ConditionReason.PlaceholderUnschedulable,
            "placeholder pod " + name + " did not start within " + config.placeholderTimeout());
      }
      return Decision.after(
          status.scheduling(cr, name, "waiting for placeholder pod " + name + " (" + phase + ")"),
          config.pollInterval());
    }
    String podNode = pod.getSpec().getNodeName();
    try {
      OperationStatus op =
          agents.submit(
              podNode,
              OperationRequest.restore(
                  "gr-" + cr.getMetadata().getUid(),
                  new RestoreRequest(
                      dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow.imageName(
                          cr.getMetadata().getNamespace(), cr.getSpec().checkpointName()),
                      containerId.get(),
                      null,
                      600,
                      cr.getSpec().standby() != StandbyMode.None ? true : null,
                      cr.getSpec().standby() == StandbyMode.Hot ? true : null,
                      cr.getSpec().postRestoreHook(),
                      cr.getSpec().gpuRemap() == GpuRemapPolicy.SameGpu ? true : null,
                      claim
                          .map(
                              c ->
                                  new ImageTransfer(
                                      containerId.get(),
                                      StoragePods.MOUNT_PATH,
                                      StoragePods.subPath(c),
                                      artifact.digest()))
                          .orElse(null),
                      // the agent refuses an image that is not the one this checkpoint made
                      artifact.digest())));
      events.normal(cr, EventReason.RestoreStarted, "restoring into " + name + " on " + podNode);
      return Decision.after(status.dispatched(cr, podNode, op.id()), config.pollInterval());
    } catch (AgentUnavailableException e) {
      return retry(cr, podNode, e);
    } catch (AgentRejectedException e) {
      return failAndClean(cr, ConditionReason.RestoreFailed, e.getMessage());
    }
  }

  /**
   * Polls one of this restore's agent operations and hands its status to {@code then}; an
   * unreachable agent is retried, an operation the agent no longer knows fails the restore.
   */
  private Decision<GpuRestoreStatus> withOperation(
      GpuRestore cr,
      String operationId,
      String what,
      java.util.function.Function<OperationStatus, Decision<GpuRestoreStatus>> then) {
    GpuRestoreStatus s = cr.getStatus();
    Optional<OperationStatus> op;
    try {
      op = agents.get(s.nodeName(), operationId);
    } catch (AgentUnavailableException e) {
      return retry(cr, s.nodeName(), e);
    }
    if (op.isEmpty()) {
      return failAndClean(
          cr,
          ConditionReason.OperationLost,
          "the agent on " + s.nodeName() + " no longer knows " + what + " " + operationId);
    }
    return then.apply(op.get());
  }

  private Decision<GpuRestoreStatus> follow(GpuRestore cr) {
    return withOperation(cr, cr.getStatus().operationId(), "operation", o -> followed(cr, o));
  }

  private Decision<GpuRestoreStatus> followed(GpuRestore cr, OperationStatus o) {
    GpuRestoreStatus s = cr.getStatus();
    if (o.state() == OperationState.SUCCEEDED && cr.getSpec().standby() != StandbyMode.None) {
      events.normal(
          cr,
          EventReason.StandbyReady,
          cr.getSpec().standby()
              + " standby ready as PID "
              + o.restoredPid()
              + " in "
              + s.podName());
      return Decision.after(
          status.standby(cr, o.restoredPid(), o.timings()), config.pollInterval());
    }
    if (o.state() == OperationState.SUCCEEDED) {
      events.normal(
          cr,
          EventReason.RestoreSucceeded,
          "restored as PID " + o.restoredPid() + " in " + s.podName());
      metrics.finished("restore", "succeeded", since(o));
      metrics.phases("restore", gpuModel(o), o.timings());
      return Decision.done(status.running(cr, o.restoredPid(), o.timings()));
    }
    if (o.state() == OperationState.FAILED) {
      return failAndClean(
          cr,
          ConditionReason.ofAgentError(o.error().reason(), true),
          o.error().reason() + ": " + o.error().message());
    }
    return Decision.after(status.progressing(cr, o.step()), config.pollInterval());
  }

  /**
   * A restore that names a pool takes one of its ready standbys (preferring spec.nodeName): the
   * standby leaves the pool (which refills), becomes owned by this restore and is activated; this
   * restore then follows it to Running.
   */
  private Decision<GpuRestoreStatus> fromPool(GpuRestore cr) {
    String ns = cr.getMetadata().getNamespace();
    String poolName = cr.getSpec().poolName();
    GpuRestoreStatus s = cr.getStatus();
    if (s == null || s.standbyName() == null) {
      GpuStandbyPool pool =
          client.resources(GpuStandbyPool.class).inNamespace(ns).withName(poolName).get();
      if (pool == null) {
        return reject(
            cr, ConditionReason.PoolNotFound, "GpuStandbyPool " + poolName + " not found");
      }
      if (!pool.getSpec().checkpointName().equals(cr.getSpec().checkpointName())) {
        return reject(
            cr,
            ConditionReason.CheckpointNotFound,
            "pool "
                + poolName
                + " keeps standbys of "
                + pool.getSpec().checkpointName()
                + ", not "
                + cr.getSpec().checkpointName());
      }
      String node = cr.getSpec().nodeName();
      List<GpuRestore> ready =
          PoolWorkflow.members(client, ns, poolName).stream()
              .filter(m -> m.getStatus() != null && m.getStatus().phase() == RestorePhase.Standby)
              .sorted(
                  java.util.Comparator.comparing(
                          (GpuRestore m) -> !Objects.equals(node, m.getStatus().nodeName()))
                      .thenComparing(m -> m.getMetadata().getName()))
              .toList();
      if (ready.isEmpty()) {
        return Decision.after(
            status.waiting(
                cr, ConditionReason.NoStandbyReady, "no ready standby in pool " + poolName),
            config.pollInterval());
      }
      GpuRestore m = ready.get(0);
      m.getMetadata().getLabels().remove(PoolWorkflow.POOL_LABEL);
      m.getMetadata().getLabels().put(PoolWorkflow.CLAIMED_LABEL, cr.getMetadata().getName());
      Map<String, String> annotations =
          new java.util.HashMap<>(
              m.getMetadata().getAnnotations() == null
                  ? Map.of()
                  : m.getMetadata().getAnnotations());
      annotations.put(GpuRestoreSpec.ACTIVATE_ANNOTATION, "true");
      m.getMetadata().setAnnotations(annotations);
      m.getMetadata()
          .setOwnerReferences(
              List.of(
                  new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
                      .withApiVersion(cr.getApiVersion())
                      .withKind(cr.getKind())
                      .withName(cr.getMetadata().getName())
                      .withUid(cr.getMetadata().getUid())
                      .withController(true)
                      .withBlockOwnerDeletion(true)
                      .build()));
      try {
        client.resource(m).update(); // resourceVersion-guarded: two restores never take one standby
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() == 409) {
          return Decision.after(cr.getStatus(), java.time.Duration.ofSeconds(1));
        }
        throw e;
      }
      events.normal(
          cr,
          EventReason.StandbyClaimed,
          "took standby " + m.getMetadata().getName() + " of pool " + poolName);
      return Decision.after(
          status.claimed(
              cr, m.getMetadata().getName(), m.getStatus().podName(), m.getStatus().nodeName()),
          config.pollInterval());
    }
    GpuRestore m =
        client.resources(GpuRestore.class).inNamespace(ns).withName(s.standbyName()).get();
    if (m == null) {
      return failPooled(cr, ConditionReason.StandbyLost, "standby " + s.standbyName() + " is gone");
    }
    RestorePhase phase = m.getStatus() == null ? null : m.getStatus().phase();
    if (phase == RestorePhase.Running) {
      return Decision.done(status.running(cr, null, m.getStatus().timings()));
    }
    if (phase == RestorePhase.Failed) {
      String reason =
          m.getStatus().conditions() == null
              ? null
              : m.getStatus().conditions().stream()
                  .filter(c -> c.type() == dev.warmstart.api.v1alpha1.ConditionType.Ready)
                  .map(dev.warmstart.api.v1alpha1.Condition::reason)
                  .findFirst()
                  .orElse(null);
      ConditionReason r =
          java.util.Arrays.stream(ConditionReason.values())
              .filter(x -> x.name().equals(reason))
              .findFirst()
              .orElse(ConditionReason.StandbyLost);
      return failPooled(
          cr, r, "standby " + s.standbyName() + " failed: " + m.getStatus().message());
    }
    return Decision.after(cr.getStatus(), config.pollInterval());
  }

  private Decision<GpuRestoreStatus> failPooled(GpuRestore cr, ConditionReason reason, String msg) {
    if (cr.getStatus() != null && cr.getStatus().standbyName() != null) {
      client
          .resources(GpuRestore.class)
          .inNamespace(cr.getMetadata().getNamespace())
          .withName(cr.getStatus().standbyName())
          .delete(); // its placeholder pod goes with it
    }
    events.warning(cr, EventReason.RestoreFailed, msg);
    metrics.finished("restore", reason.name(), null);
    return Decision.done(status.failed(cr, reason, msg));
  }

  /** A standby waits until its activation annotation is set; no agent call meanwhile. */
  private Decision<GpuRestoreStatus> activateWhenAsked(GpuRestore cr) {
    var annotations = cr.getMetadata().getAnnotations();
    if (annotations == null
        || !"true".equals(annotations.get(GpuRestoreSpec.ACTIVATE_ANNOTATION))) {
      return Decision.after(cr.getStatus(), config.pollInterval());
    }
    GpuRestoreStatus s = cr.getStatus();
    try {
      OperationStatus op =
          agents.submit(
              s.nodeName(),
              OperationRequest.activate(
                  "gra-" + cr.getMetadata().getUid(),
                  new ActivateRequest(s.operationId(), null, 600)));
      return Decision.after(status.activating(cr, op.id()), config.pollInterval());
    } catch (AgentUnavailableException e) {
      return retry(cr, s.nodeName(), e);
    } catch (AgentRejectedException e) {
      return failAndClean(cr, ConditionReason.StandbyLost, e.getMessage());
    }
  }

  private Decision<GpuRestoreStatus> followActivation(GpuRestore cr) {
    return withOperation(
        cr, cr.getStatus().activationOperationId(), "activation", o -> activated(cr, o));
  }

  private Decision<GpuRestoreStatus> activated(GpuRestore cr, OperationStatus o) {
    if (o.state() == OperationState.SUCCEEDED) {
      Map<String, Long> t = new java.util.LinkedHashMap<>();
      Long total = o.timings() == null ? null : o.timings().get("total");
      t.put("activation", total);
      events.normal(cr, EventReason.StandbyActivated, "activated in " + total + " ms");
      metrics.finished("activate", "succeeded", since(o));
      metrics.phases("activate", gpuModel(o), o.timings());
      return Decision.done(status.running(cr, o.restoredPid(), t));
    }
    if (o.state() == OperationState.FAILED) {
      ConditionReason reason =
          o.error().reason() == dev.warmstart.api.agent.ErrorReason.ProcessNotFound
              ? ConditionReason.StandbyLost
              : ConditionReason.ofAgentError(o.error().reason(), true);
      return failAndClean(cr, reason, o.error().reason() + ": " + o.error().message());
    }
    return Decision.after(cr.getStatus(), config.pollInterval());
  }

  private Duration since(OperationStatus o) {
    return o.submittedAt() == null
        ? null
        : Duration.between(Instant.parse(o.submittedAt()), clock.instant());
  }

  private Decision<GpuRestoreStatus> retry(
      GpuRestore cr, String node, AgentUnavailableException e) {
    int attempts =
        cr.getStatus() == null || cr.getStatus().attempts() == null ? 0 : cr.getStatus().attempts();
    if (attempts + 1 >= config.maxAttempts()) {
      return failAndClean(
          cr, e.reason(), e.getMessage() + " (gave up after " + (attempts + 1) + " attempts)");
    }
    events.warning(cr, EventReason.AgentRetry, e.getMessage());
    GpuRestoreStatus next = status.retrying(cr, node, e.reason(), e.getMessage());
    return Decision.after(next, Backoff.after(config.retryBackoff(), next.attempts()));
  }

  private Decision<GpuRestoreStatus> reject(GpuRestore cr, ConditionReason reason, String msg) {
    events.warning(cr, EventReason.RestoreRejected, msg);
    metrics.finished("restore", reason.name(), null);
    return Decision.done(status.rejected(cr, reason, msg));
  }

  private Decision<GpuRestoreStatus> failAndClean(
      GpuRestore cr, ConditionReason reason, String msg) {
    client
        .pods()
        .inNamespace(cr.getMetadata().getNamespace())
        .withName(PlaceholderPods.podName(cr))
        .delete();
    events.warning(cr, EventReason.RestoreFailed, msg + "; placeholder removed");
    metrics.finished("restore", reason.name(), null);
    return Decision.done(status.failed(cr, reason, msg));
  }

  private static Optional<String> unschedulable(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getConditions().stream()
        .filter(
            c ->
                "PodScheduled".equals(c.getType())
                    && "False".equals(c.getStatus())
                    && "Unschedulable".equals(c.getReason()))
        .findFirst()
        .map(
            c ->
                "placeholder pod "
                    + pod.getMetadata().getName()
                    + " cannot be scheduled: "
                    + c.getMessage());
  }

  private static Optional<String> runningContainerId(Pod pod, String container) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(c -> c.getName().equals(container))
        .filter(c -> c.getState() != null && c.getState().getRunning() != null)
        .map(ContainerStatus::getContainerID)
        .filter(id -> id != null && !id.isBlank())
        .map(id -> id.replaceFirst("^[a-z0-9-]+://", ""))
        .findFirst();
  }

  private static String gpuModel(OperationStatus o) {
    return o.image() == null || o.image().gpu() == null ? null : o.image().gpu().model();
  }
}
