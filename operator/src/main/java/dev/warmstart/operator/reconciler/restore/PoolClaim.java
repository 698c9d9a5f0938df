package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.operator.reconciler.OwnerReferences;
import dev.warmstart.operator.reconciler.pool.PoolWorkflow;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A restore that names a pool takes one of its ready standbys (preferring spec.nodeName): the
 * standby leaves the pool (which refills), becomes owned by this restore and is activated; this
 * restore then follows it to Running. The choice and the following are pure; {@link #take} writes.
 */
public final class PoolClaim {
  private final KubernetesClient client;

  public PoolClaim(KubernetesClient client) {
    this.client = client;
  }

  /** Which standby to take, or why none. */
  static RestoreAction choose(RestoreObservation o) {
    GpuRestore cr = o.cr();
    String poolName = cr.getSpec().poolName();
    if (o.pool().isEmpty()) {
      return new RestoreAction.Reject(
          ConditionReason.PoolNotFound, "GpuStandbyPool " + poolName + " not found");
    }
    GpuStandbyPool pool = o.pool().get();
    if (!pool.getSpec().checkpointName().equals(cr.getSpec().checkpointName())) {
      return new RestoreAction.Reject(
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
        o.poolMembers().stream()
            .filter(m -> m.getStatus() != null && m.getStatus().phase() == RestorePhase.Standby)
            .sorted(
                Comparator.comparing(
                        (GpuRestore m) -> !Objects.equals(node, m.getStatus().nodeName()))
                    .thenComparing(m -> m.getMetadata().getName()))
            .toList();
    if (ready.isEmpty()) {
      return new RestoreAction.Wait(
          ConditionReason.NoStandbyReady, "no ready standby in pool " + poolName);
    }
    return new RestoreAction.Claim(ready.get(0), poolName);
  }

  /** The claimed standby decides this restore's fate. */
  static RestoreAction followStandby(RestoreObservation o) {
    String name = o.cr().getStatus().standbyName();
    if (o.standby().isEmpty()) {
      return new RestoreAction.FailPooled(
          ConditionReason.StandbyLost, "standby " + name + " is gone");
    }
    GpuRestore m = o.standby().get();
    RestorePhase phase = m.getStatus() == null ? null : m.getStatus().phase();
    if (phase == RestorePhase.Running) {
      return new RestoreAction.TookOver(m.getStatus().timings());
    }
    if (phase == RestorePhase.Failed) {
      return new RestoreAction.FailPooled(
          readyReason(m), "standby " + name + " failed: " + m.getStatus().message());
    }
    return new RestoreAction.Recheck();
  }

  /** The standby's own failure reason, so the pooled restore fails for the same one. */
  private static ConditionReason readyReason(GpuRestore m) {
    String reason =
        m.getStatus().conditions() == null
            ? null
            : m.getStatus().conditions().stream()
                .filter(c -> c.type() == ConditionType.Ready)
                .map(Condition::reason)
                .findFirst()
                .orElse(null);
    return Arrays.stream(ConditionReason.values())
        .filter(x -> x.name().equals(reason))
        .findFirst()
        .orElse(ConditionReason.StandbyLost);
  }

  /**
   * Relabels, annotates and re-owns the standby; false when another restore changed it first (the
   * update is resourceVersion-guarded, so two restores never take one standby).
   */
  boolean take(GpuRestore cr, GpuRestore standby) {
    // a copy: the standby came from the informer's cache, which must stay as the server sent it
    GpuRestore m = client.getKubernetesSerialization().clone(standby);
    Map<String, String> labels = new HashMap<>(m.getMetadata().getLabels());
    labels.remove(PoolWorkflow.POOL_LABEL);
    labels.put(PoolWorkflow.CLAIMED_LABEL, cr.getMetadata().getName());
    m.getMetadata().setLabels(labels);
    Map<String, String> annotations =
        new HashMap<>(
            m.getMetadata().getAnnotations() == null ? Map.of() : m.getMetadata().getAnnotations());
    annotations.put(GpuRestoreSpec.ACTIVATE_ANNOTATION, "true");
    m.getMetadata().setAnnotations(annotations);
    m.getMetadata().setOwnerReferences(List.of(OwnerReferences.controller(cr)));
    try {
      client.resource(m).update();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return false;
      }
      throw e;
    }
  }

  /** Deletes the claimed standby; its placeholder pod goes with it. */
  void release(GpuRestore cr) {
    client
        .resources(GpuRestore.class)
        .inNamespace(cr.getMetadata().getNamespace())
        .withName(cr.getStatus().standbyName())
        .delete();
  }
}
