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
import dev.warmstart.api.v1alpha1.CheckpointStorage;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.operator.agent.ProtocolMapping;
import dev.warmstart.operator.reconciler.RunningContainers;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The GpuCheckpoint decisions, a pure function of what was observed: validate the pod, get the
 * claim's storage pod running when the image goes to a claim, dispatch once (idempotency key from
 * the CR's UID, so a retried or restarted reconcile never starts a second capture), then follow the
 * operation until it ends or overruns the spec's timeout.
 */
public final class CheckpointDecider {
  /** Slack on top of the spec's timeout, for the agent's own bookkeeping. */
  private static final Duration GRACE = Duration.ofMinutes(2);

  private final PodValidator validator = new PodValidator();
  private final Duration storageTimeout;

  public CheckpointDecider(Duration storageTimeout) {
    this.storageTimeout = storageTimeout;
  }

  public CheckpointAction decide(CheckpointObservation o) {
    GpuCheckpointStatus s = o.cr().getStatus();
    if (s != null && s.phase() != null && s.phase().isTerminal()) {
      return new CheckpointAction.Keep();
    }
    if (s != null && s.operationId() != null) {
      return new CheckpointAction.Follow(s.nodeName(), s.operationId(), o);
    }
    return dispatch(o);
  }

  /** What a poll of the capture's agent operation means. */
  public CheckpointAction afterOperation(CheckpointObservation o, OperationStatus op) {
    GpuCheckpoint cr = o.cr();
    if (op.state() == OperationState.SUCCEEDED) {
      return new CheckpointAction.Succeed(op, artifact(o, op.image()));
    }
    if (op.state() == OperationState.FAILED) {
      return new CheckpointAction.Fail(
          ConditionReason.ofAgentError(op.error().reason(), false),
          op.error().reason() + ": " + op.error().message());
    }
    if (dispatchedAt(cr)
        .map(t -> t.plusSeconds(cr.getSpec().timeoutSeconds()).plus(GRACE).isBefore(o.now()))
        .orElse(false)) {
      return new CheckpointAction.Fail(
          ConditionReason.Timeout,
          "no result within "
              + cr.getSpec().timeoutSeconds()
              + " s (+"
              + GRACE.toSeconds()
              + " s)");
    }
    return new CheckpointAction.Progress(op.step());
  }

  private CheckpointAction dispatch(CheckpointObservation o) {
    GpuCheckpoint cr = o.cr();
    PodValidator.Result r = validator.validate(o.pod().orElse(null), cr.getSpec());
    if (r.problem().isPresent()) {
      PodValidator.Problem p = r.problem().get();
      return p.terminal()
          ? new CheckpointAction.Reject(p.reason(), p.message())
          : new CheckpointAction.Wait(p.reason(), p.message());
    }
    CheckpointTarget t = r.target().orElseThrow();
    ImageTransfer exportTo = null;
    Optional<PersistentVolumeClaimStorage> claim = StoragePods.claim(cr);
    if (claim.isPresent()) {
      String waiting =
          "waiting for pod "
              + StoragePods.podName(cr)
              + " to mount claim "
              + claim.get().claimName()
              + " on node "
              + t.nodeName();
      if (o.storagePod().isEmpty()) {
        return new CheckpointAction.CreateStoragePod(claim.get(), t.nodeName(), waiting);
      }
      Pod store = o.storagePod().get();
      Optional<String> storeContainer =
          "Running".equals(store.getStatus() == null ? null : store.getStatus().getPhase())
              ? RunningContainers.id(store, c -> true)
              : Optional.empty();
      if (storeContainer.isEmpty()) {
        return storageLate(store, o.now())
            ? new CheckpointAction.Fail(
                ConditionReason.StoragePending,
                "pod "
                    + store.getMetadata().getName()
                    + " did not mount claim "
                    + claim.get().claimName()
                    + " on node "
                    + t.nodeName()
                    + " within "
                    + storageTimeout
                    + " (is the claim bound, and mountable there?)")
            : new CheckpointAction.Wait(ConditionReason.StoragePending, waiting);
      }
      exportTo =
          new ImageTransfer(
              storeContainer.get(), StoragePods.MOUNT_PATH, StoragePods.subPath(claim.get()), null);
    }
    OperationRequest request =
        OperationRequest.checkpoint(
            CheckpointWorkflow.idempotencyKey(cr),
            CheckpointRequest.builder(
                    ProcessTarget.ofContainer(t.containerId()),
                    CheckpointWorkflow.imageName(cr),
                    cr.getSpec().timeoutSeconds())
                .leaveRunning(cr.getSpec().leaveRunning())
                .preCheckpointHook(ProtocolMapping.hook(cr.getSpec().preCheckpointHook()))
                .labels(
                    Map.of(
                        "namespace", cr.getMetadata().getNamespace(),
                        "pod", cr.getSpec().podName(),
                        "container", t.containerName(),
                        "gpucheckpoint", cr.getMetadata().getName()))
                .exportTo(exportTo)
                .build());
    return new CheckpointAction.Dispatch(
        t.nodeName(), request, cr.getSpec().podName() + "/" + t.containerName());
  }

  private boolean storageLate(Pod store, Instant now) {
    String createdAt = store.getMetadata().getCreationTimestamp();
    Instant created = createdAt == null ? now : Instant.parse(createdAt);
    return created.plus(storageTimeout).isBefore(now);
  }

  private CheckpointArtifact artifact(CheckpointObservation o, ImageSummary img) {
    GpuCheckpoint cr = o.cr();
    Pod pod = o.pod().orElse(null);
    String container =
        Optional.ofNullable(cr.getSpec().containerName())
            .orElseGet(
                () ->
                    pod == null
                        ? null
                        : validator
                            .validate(pod, cr.getSpec())
                            .target()
                            .map(CheckpointTarget::containerName)
                            .orElse(null));
    CheckpointStorage storage =
        StoragePods.claim(cr)
            .map(
                c ->
                    new CheckpointStorage(
                        null,
                        new PersistentVolumeClaimStorage(c.claimName(), StoragePods.subPath(c))))
            .orElseGet(CheckpointStorage::nodeLocal);
    return CheckpointArtifact.builder(img.node(), img.name())
        .storage(storage)
        .path(img.directory())
        .sizeBytes(img.sizeBytes())
        .digest(img.manifestDigest())
        .createdAt(img.createdAt())
        .sourcePodTemplate(pod == null ? null : PodValidator.template(pod))
        .containerName(container)
        .gpu(ProtocolMapping.gpu(img.gpu()))
        .criuVersion(img.criuVersion())
        .build();
  }

  /** When the capture was dispatched (its Progressing condition), while it runs. */
  static Optional<Instant> dispatchedAt(GpuCheckpoint cr) {
    if (cr.getStatus() == null
        || cr.getStatus().conditions() == null
        || cr.getStatus().phase() != CheckpointPhase.Checkpointing) {
      return Optional.empty();
    }
    return cr.getStatus().conditions().stream()
        .filter(c -> c.type() == ConditionType.Progressing)
        .findFirst()
        .map(c -> Instant.parse(c.lastTransitionTime()));
  }
}
