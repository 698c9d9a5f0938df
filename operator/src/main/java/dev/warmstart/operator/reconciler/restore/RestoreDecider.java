package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.ErrorReason;
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
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.operator.agent.ProtocolMapping;
import dev.warmstart.operator.reconciler.checkpoint.StoragePods;
import dev.warmstart.operator.reconciler.restore.RestoreAction.Stage;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The GpuRestore decisions, keyed by where the restore stands: a pure function of what was observed
 * (no API server, no agent), so every branch is unit-testable on its own.
 */
public final class RestoreDecider {
  /** Seconds the agent may take for a restore or an activation. */
  private static final int AGENT_TIMEOUT_SECONDS = 600;

  private final Duration placeholderTimeout;

  public RestoreDecider(Duration placeholderTimeout) {
    this.placeholderTimeout = placeholderTimeout;
  }

  public RestoreAction decide(RestoreObservation o) {
    GpuRestore cr = o.cr();
    GpuRestoreStatus s = cr.getStatus();
    if (s != null && s.phase() != null && s.phase().isTerminal()) {
      // A failed restore's placeholder goes, also one a decision from a stale read created after
      // the failure (its pod event brings the restore back here); a Running one's never does.
      boolean ownPlaceholder =
          o.placeholder().filter(p -> PlaceholderPods.ownedBy(p, cr)).isPresent();
      return s.phase() == RestorePhase.Failed && ownPlaceholder
          ? new RestoreAction.RemovePlaceholder()
          : new RestoreAction.Keep();
    }
    if (cr.getSpec().poolName() != null) {
      return s == null || s.standbyName() == null
          ? PoolClaim.choose(o)
          : PoolClaim.followStandby(o);
    }
    if (s != null && s.activationOperationId() != null) {
      return new RestoreAction.Follow(s.nodeName(), s.activationOperationId(), Stage.ACTIVATION);
    }
    if (s != null && s.phase() == RestorePhase.Standby) {
      return activateWhenAsked(cr);
    }
    if (s != null && s.operationId() != null) {
      return new RestoreAction.Follow(s.nodeName(), s.operationId(), Stage.RESTORE);
    }
    return fromCheckpoint(o);
  }

  /** What a finished poll of the restore's (or activation's) agent operation means. */
  public RestoreAction afterOperation(GpuRestore cr, Stage stage, OperationStatus op) {
    if (stage == Stage.ACTIVATION) {
      if (op.state() == OperationState.SUCCEEDED) {
        return new RestoreAction.Activated(op);
      }
      if (op.state() == OperationState.FAILED) {
        ConditionReason reason =
            op.error().reason() == ErrorReason.ProcessNotFound
                ? ConditionReason.StandbyLost
                : ConditionReason.ofAgentError(op.error().reason(), true);
        return new RestoreAction.Fail(reason, agentError(op));
      }
      return new RestoreAction.Recheck();
    }
    if (op.state() == OperationState.SUCCEEDED) {
      return ProtocolMapping.stage(cr.getSpec().standby()).standby()
          ? new RestoreAction.StandbyReady(op)
          : new RestoreAction.Restored(op);
    }
    if (op.state() == OperationState.FAILED) {
      return new RestoreAction.Fail(
          ConditionReason.ofAgentError(op.error().reason(), true), agentError(op));
    }
    return new RestoreAction.Progress(op.step());
  }

  private RestoreAction fromCheckpoint(RestoreObservation o) {
    GpuRestore cr = o.cr();
    String ns = cr.getMetadata().getNamespace();
    if (o.checkpoint().isEmpty()) {
      return new RestoreAction.Reject(
          ConditionReason.CheckpointNotFound,
          "GpuCheckpoint " + cr.getSpec().checkpointName() + " not found in " + ns);
    }
    GpuCheckpoint ckpt = o.checkpoint().get();
    String name = ckpt.getMetadata().getName();
    CheckpointPhase phase = ckpt.getStatus() == null ? null : ckpt.getStatus().phase();
    if (phase == CheckpointPhase.Failed) {
      return new RestoreAction.Reject(
          ConditionReason.CheckpointFailed,
          "GpuCheckpoint " + name + " failed: " + ckpt.getStatus().message());
    }
    if (phase != CheckpointPhase.Succeeded || ckpt.getStatus().artifact() == null) {
      return new RestoreAction.Wait(
          ConditionReason.CheckpointNotReady,
          "waiting for GpuCheckpoint " + name + " (" + phase + ")");
    }
    CheckpointArtifact artifact = ckpt.getStatus().artifact();
    if (artifact.onClaim() && artifact.sourcePodTemplate() != null) {
      // Kept on a claim: any node that can mount it; the placeholder mounts it for the import.
      return placeholder(
          o, artifact, null, Optional.of(artifact.storage().persistentVolumeClaim()));
    }
    if (artifact.node() == null
        || artifact.imageName() == null
        || artifact.sourcePodTemplate() == null) {
      return new RestoreAction.Reject(
          ConditionReason.CheckpointNotFound,
          "GpuCheckpoint " + name + " has no restorable node-local artifact");
    }
    String node = artifact.node();
    if (cr.getSpec().nodeName() != null && !cr.getSpec().nodeName().equals(node)) {
      return new RestoreAction.Reject(
          ConditionReason.NodeMismatch,
          "the checkpoint is kept on node "
              + node
              + " only; spec.nodeName asks for "
              + cr.getSpec().nodeName());
    }
    return placeholder(o, artifact, node, Optional.empty());
  }

  private RestoreAction placeholder(
      RestoreObservation o,
      CheckpointArtifact artifact,
      String node,
      Optional<PersistentVolumeClaimStorage> claim) {
    GpuRestore cr = o.cr();
    String name = PlaceholderPods.podName(cr);
    if (o.placeholder().isEmpty()) {
      return new RestoreAction.CreatePlaceholder(artifact, node, claim);
    }
    Pod pod = o.placeholder().get();
    if (!PlaceholderPods.ownedBy(pod, cr)) {
      return new RestoreAction.Reject(ConditionReason.PlaceholderFailed, notOurs(name));
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Failed".equals(phase) || "Succeeded".equals(phase)) {
      return new RestoreAction.Fail(
          ConditionReason.PlaceholderFailed, "placeholder pod " + name + " ended (" + phase + ")");
    }
    Optional<String> unschedulable = PlaceholderPods.unschedulable(pod);
    if (unschedulable.isPresent()) {
      return new RestoreAction.Fail(ConditionReason.PlaceholderUnschedulable, unschedulable.get());
    }
    Optional<String> containerId =
        PlaceholderPods.runningContainerId(pod, artifact.containerName());
    if (!"Running".equals(phase) || containerId.isEmpty()) {
      String createdAt = pod.getMetadata().getCreationTimestamp();
      Instant created = createdAt != null ? Instant.parse(createdAt) : o.now();
      if (created.plus(placeholderTimeout).isBefore(o.now())) {
        return new RestoreAction.Fail(
            ConditionReason.PlaceholderUnschedulable,
            "placeholder pod " + name + " did not start within " + placeholderTimeout);
      }
      return new RestoreAction.AwaitPlaceholder(
          name, "waiting for placeholder pod " + name + " (" + phase + ")");
    }
    return new RestoreAction.Dispatch(
        pod.getSpec().getNodeName(), name, restoreRequest(cr, artifact, containerId.get(), claim));
  }

  /** The message when a pod of the placeholder's name is someone else's. */
  static String notOurs(String podName) {
    return "pod " + podName + " exists and is not this restore's placeholder: set spec.podName";
  }

  private static OperationRequest restoreRequest(
      GpuRestore cr,
      CheckpointArtifact artifact,
      String containerId,
      Optional<PersistentVolumeClaimStorage> claim) {
    GpuRestoreSpec spec = cr.getSpec();
    return OperationRequest.restore(
        "gr-" + cr.getMetadata().getUid(),
        RestoreRequest.builder(artifact.imageName(), AGENT_TIMEOUT_SECONDS)
            .intoContainerId(containerId)
            .stage(ProtocolMapping.stage(spec.standby()))
            .postRestoreHook(ProtocolMapping.hook(spec.postRestoreHook()))
            .sameGpu(spec.gpuRemap() == GpuRemapPolicy.SameGpu)
            .importFrom(
                claim
                    .map(
                        c ->
                            new ImageTransfer(
                                containerId,
                                StoragePods.MOUNT_PATH,
                                c.subPath(),
                                artifact.digest()))
                    .orElse(null))
            // the agent refuses an image that is not the one this checkpoint made
            .expectedImageDigest(artifact.digest())
            .build());
  }

  /** A standby waits until its activation annotation is set; no agent call meanwhile. */
  private static RestoreAction activateWhenAsked(GpuRestore cr) {
    var annotations = cr.getMetadata().getAnnotations();
    if (annotations == null
        || !"true".equals(annotations.get(GpuRestoreSpec.ACTIVATE_ANNOTATION))) {
      return new RestoreAction.Recheck();
    }
    GpuRestoreStatus s = cr.getStatus();
    return new RestoreAction.Activate(
        s.nodeName(),
        OperationRequest.activate(
            "gra-" + cr.getMetadata().getUid(),
            new ActivateRequest(s.operationId(), null, AGENT_TIMEOUT_SECONDS)));
  }

  private static String agentError(OperationStatus op) {
    return op.error().reason() + ": " + op.error().message();
  }
}
