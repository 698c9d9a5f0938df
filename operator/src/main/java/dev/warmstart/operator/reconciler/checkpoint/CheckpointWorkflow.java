package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.ImageSummary;
import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.agent.AgentRejectedException;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Backoff;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The GpuCheckpoint state machine, one step per reconcile: validate the pod and dispatch once
 * (idempotency key from the CR's UID, so a retried or restarted reconcile never starts a second
 * capture), then poll the agent until the operation ends. Never blocks on the agent beyond one
 * call.
 */
@ApplicationScoped
public class CheckpointWorkflow {
  /** Slack on top of the spec's timeout, for the agent's own bookkeeping. */
  private static final Duration GRACE = Duration.ofMinutes(2);

  private final KubernetesClient client;
  private final NodeAgentClient agents;
  private final CheckpointStatusFactory status;
  private final EventRecorder events;
  private final OperatorMetrics metrics;
  private final OperatorConfig config;
  private final Clock clock;
  private final PodValidator validator = new PodValidator();
  private final StoragePods storagePods;

  public CheckpointWorkflow(
      KubernetesClient client,
      NodeAgentClient agents,
      CheckpointStatusFactory status,
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
    this.storagePods = new StoragePods(config.placeholderImage());
  }

  public static String idempotencyKey(GpuCheckpoint cr) {
    return "gck-" + cr.getMetadata().getUid();
  }

  public static String imageName(GpuCheckpoint cr) {
    return imageName(cr.getMetadata().getNamespace(), cr.getMetadata().getName());
  }

  /** The agent's image name of a GpuCheckpoint: unique per node, as CRs are per namespace. */
  public static String imageName(String namespace, String checkpoint) {
    return namespace + "." + checkpoint;
  }

  public Decision<GpuCheckpointStatus> step(GpuCheckpoint cr) {
    GpuCheckpointStatus s = cr.getStatus();
    if (s != null && s.phase() != null && s.phase().isTerminal()) {
      return Decision.done(s);
    }
    if (s != null && s.operationId() != null) {
      return follow(cr);
    }
    return dispatch(cr);
  }

  private Decision<GpuCheckpointStatus> dispatch(GpuCheckpoint cr) {
    Pod pod =
        client
            .pods()
            .inNamespace(cr.getMetadata().getNamespace())
            .withName(cr.getSpec().podName())
            .get();
    PodValidator.Result r = validator.validate(pod, cr.getSpec());
    if (r.problem().isPresent()) {
      PodValidator.Problem p = r.problem().get();
      if (p.terminal()) {
        events.warning(cr, EventReason.CheckpointRejected, p.message());
        metrics.finished("checkpoint", p.reason().name(), null);
        return Decision.done(status.rejected(cr, p.reason(), p.message()));
      }
      return Decision.after(status.waiting(cr, p.reason(), p.message()), config.pollInterval());
    }
    CheckpointTarget t = r.target().orElseThrow();
    ImageTransfer exportTo = null;
    Optional<PersistentVolumeClaimStorage> claim = StoragePods.claim(cr);
    if (claim.isPresent()) {
      Optional<String> store;
      try {
        store = storagePod(cr, claim.get(), t.nodeName());
      } catch (StorageUnavailable e) {
        return fail(cr, ConditionReason.StoragePending, e.getMessage());
      }
      if (store.isEmpty()) {
        return Decision.after(
            status.waiting(
                cr,
                ConditionReason.StoragePending,
                "waiting for pod "
                    + StoragePods.podName(cr)
                    + " to mount claim "
                    + claim.get().claimName()
                    + " on node "
                    + t.nodeName()),
            config.pollInterval());
      }
      exportTo =
          new ImageTransfer(
              store.get(), StoragePods.MOUNT_PATH, StoragePods.subPath(claim.get()), null);
    }
    try {
      OperationStatus op =
          agents.submit(
              t.nodeName(),
              OperationRequest.checkpoint(
                  idempotencyKey(cr),
                  new CheckpointRequest(
                      ProcessTarget.ofContainer(t.containerId()),
                      imageName(cr),
                      cr.getSpec().leaveRunning(),
                      cr.getSpec().timeoutSeconds(),
                      cr.getSpec().preCheckpointHook(),
                      Map.of(
                          "namespace", cr.getMetadata().getNamespace(),
                          "pod", cr.getSpec().podName(),
                          "container", t.containerName(),
                          "gpucheckpoint", cr.getMetadata().getName()),
                      false,
                      exportTo)));
      events.normal(
          cr,
          EventReason.CheckpointStarted,
          "checkpoint of "
              + cr.getSpec().podName()
              + "/"
              + t.containerName()
              + " on node "
              + t.nodeName()
              + " (operation "
              + op.id()
              + ")");
      return Decision.after(status.dispatched(cr, t.nodeName(), op.id()), config.pollInterval());
    } catch (AgentUnavailableException e) {
      return retry(cr, t.nodeName(), e);
    } catch (AgentRejectedException e) {
      events.warning(cr, EventReason.CheckpointRejected, e.getMessage());
      return Decision.done(status.rejected(cr, ConditionReason.CheckpointFailed, e.getMessage()));
    }
  }

  private Decision<GpuCheckpointStatus> follow(GpuCheckpoint cr) {
    GpuCheckpointStatus s = cr.getStatus();
    Optional<OperationStatus> op;
    try {
      op = agents.get(s.nodeName(), s.operationId());
    } catch (AgentUnavailableException e) {
      return retry(cr, s.nodeName(), e);
    }
    if (op.isEmpty()) {
      String msg = "the agent on " + s.nodeName() + " no longer knows operation " + s.operationId();
      return fail(cr, ConditionReason.OperationLost, msg);
    }
    OperationStatus o = op.get();
    if (o.state() == OperationState.SUCCEEDED) {
      return succeed(cr, o);
    }
    if (o.state() == OperationState.FAILED) {
      return fail(
          cr,
          ConditionReason.ofAgentError(o.error().reason(), false),
          o.error().reason() + ": " + o.error().message());
    }
    if (overdue(cr)) {
      return fail(
          cr,
          ConditionReason.Timeout,
          "no result within "
              + cr.getSpec().timeoutSeconds()
              + " s (+"
              + GRACE.toSeconds()
              + " s)");
    }
    return Decision.after(status.progressing(cr, o.step()), config.pollInterval());
  }

  private Decision<GpuCheckpointStatus> succeed(GpuCheckpoint cr, OperationStatus o) {
    Pod pod =
        client
            .pods()
            .inNamespace(cr.getMetadata().getNamespace())
            .withName(cr.getSpec().podName())
            .get();
    ImageSummary img = o.image();
    String container =
        Optional.ofNullable(cr.getSpec().containerName())
            .orElseGet(() -> pod == null ? null : validatedContainer(pod, cr));
    Optional<PersistentVolumeClaimStorage> claim = StoragePods.claim(cr);
    claim.ifPresent(c -> deleteStoragePod(cr));
    CheckpointArtifact artifact =
        new CheckpointArtifact(
            claim
                .map(
                    c ->
                        "pvc://"
                            + c.claimName()
                            + "/"
                            + StoragePods.subPath(c)
                            + "/"
                            + imageName(cr))
                .orElse(img.location()),
            img.sizeBytes(),
            img.manifestDigest(),
            img.createdAt(),
            pod == null ? null : PodValidator.template(pod),
            container,
            img.gpu(),
            img.criuVersion());
    events.normal(
        cr,
        EventReason.CheckpointSucceeded,
        "stored " + (img.sizeBytes() >> 20) + " MiB at " + artifact.location());
    String gpuModel = img.gpu() == null ? null : img.gpu().model();
    metrics.finished("checkpoint", "succeeded", tookSinceDispatch(cr));
    metrics.phases("checkpoint", gpuModel, o.timings());
    metrics.checkpointSize(img.sizeBytes(), gpuModel);
    return Decision.done(status.succeeded(cr, artifact, o.timings()));
  }

  private String validatedContainer(Pod pod, GpuCheckpoint cr) {
    return validator
        .validate(pod, cr.getSpec())
        .target()
        .map(CheckpointTarget::containerName)
        .orElse(null);
  }

  /**
   * The container id of the running pod that mounts the checkpoint's claim on its node, creating
   * the pod first; empty while it starts.
   */
  private Optional<String> storagePod(
      GpuCheckpoint cr, PersistentVolumeClaimStorage claim, String node) {
    String ns = cr.getMetadata().getNamespace();
    Pod pod = client.pods().inNamespace(ns).withName(StoragePods.podName(cr)).get();
    if (pod == null) {
      client.resource(storagePods.build(cr, claim, node)).create();
      return Optional.empty();
    }
    if (pod.getStatus() == null
        || !"Running".equals(pod.getStatus().getPhase())
        || pod.getStatus().getContainerStatuses() == null) {
      Instant created =
          pod.getMetadata().getCreationTimestamp() == null
              ? clock.instant()
              : Instant.parse(pod.getMetadata().getCreationTimestamp());
      if (created.plus(config.placeholderTimeout()).isBefore(clock.instant())) {
        throw new StorageUnavailable(
            "pod "
                + pod.getMetadata().getName()
                + " did not mount claim "
                + claim.claimName()
                + " on node "
                + node
                + " within "
                + config.placeholderTimeout()
                + " (is the claim bound, and mountable there?)");
      }
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(c -> c.getState() != null && c.getState().getRunning() != null)
        .map(c -> c.getContainerID())
        .filter(java.util.Objects::nonNull)
        .map(id -> id.replaceFirst("^[a-z0-9-]+://", "")) // as the agent's runc state names it
        .findFirst();
  }

  private static final class StorageUnavailable extends RuntimeException {
    StorageUnavailable(String message) {
      super(message);
    }
  }

  /** The storage pod goes as soon as the copy is done or failed: an RWO claim is free again. */
  private void deleteStoragePod(GpuCheckpoint cr) {
    client
        .pods()
        .inNamespace(cr.getMetadata().getNamespace())
        .withName(StoragePods.podName(cr))
        .delete();
  }

  private Decision<GpuCheckpointStatus> fail(GpuCheckpoint cr, ConditionReason reason, String msg) {
    StoragePods.claim(cr).ifPresent(c -> deleteStoragePod(cr));
    events.warning(cr, EventReason.CheckpointFailed, msg);
    metrics.finished("checkpoint", reason.name(), tookSinceDispatch(cr));
    return Decision.done(status.failed(cr, reason, msg));
  }

  private Decision<GpuCheckpointStatus> retry(
      GpuCheckpoint cr, String node, AgentUnavailableException e) {
    int attempts =
        cr.getStatus() == null || cr.getStatus().attempts() == null ? 0 : cr.getStatus().attempts();
    if (attempts + 1 >= config.maxAttempts()) {
      String msg = e.getMessage() + " (gave up after " + (attempts + 1) + " attempts)";
      return fail(cr, e.reason(), msg);
    }
    events.warning(cr, EventReason.AgentRetry, e.getMessage());
    GpuCheckpointStatus next = status.retrying(cr, node, e.reason(), e.getMessage());
    return Decision.after(next, Backoff.after(config.retryBackoff(), next.attempts()));
  }

  private boolean overdue(GpuCheckpoint cr) {
    return since(cr, ConditionType.Progressing)
        .map(
            t -> t.plusSeconds(cr.getSpec().timeoutSeconds()).plus(GRACE).isBefore(clock.instant()))
        .orElse(false);
  }

  private Duration tookSinceDispatch(GpuCheckpoint cr) {
    return since(cr, ConditionType.Progressing)
        .map(t -> Duration.between(t, clock.instant()))
        .orElse(null);
  }

  private static Optional<Instant> since(GpuCheckpoint cr, ConditionType type) {
    if (cr.getStatus() == null
        || cr.getStatus().conditions() == null
        || cr.getStatus().phase() != CheckpointPhase.Checkpointing) {
      return Optional.empty();
    }
    return cr.getStatus().conditions().stream()
        .filter(c -> c.type() == type)
        .findFirst()
        .map(c -> Instant.parse(c.lastTransitionTime()));
  }
}
