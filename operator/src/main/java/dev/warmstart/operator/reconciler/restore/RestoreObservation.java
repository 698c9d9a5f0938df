package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Everything one decision about a GpuRestore looks at, read before deciding.
 *
 * @param checkpoint the GpuCheckpoint it restores (not read for a pooled restore)
 * @param placeholder its placeholder pod, once created
 * @param pool the pool it takes a standby from (pooled, not yet claimed)
 * @param poolMembers that pool's standbys
 * @param standby the standby it claimed
 */
public record RestoreObservation(
    GpuRestore cr,
    Instant now,
    Optional<GpuCheckpoint> checkpoint,
    Optional<Pod> placeholder,
    Optional<GpuStandbyPool> pool,
    List<GpuRestore> poolMembers,
    Optional<GpuRestore> standby) {

  /** Reads from {@code world} what the restore's stage needs. */
  public static RestoreObservation of(GpuRestore cr, RestoreWorld world, Instant now) {
    String ns = cr.getMetadata().getNamespace();
    String poolName = cr.getSpec().poolName();
    String standbyName = cr.getStatus() == null ? null : cr.getStatus().standbyName();
    if (poolName != null) {
      return standbyName == null
          ? new RestoreObservation(
              cr,
              now,
              Optional.empty(),
              Optional.empty(),
              world.pool(ns, poolName),
              world.poolMembers(ns, poolName),
              Optional.empty())
          : new RestoreObservation(
              cr,
              now,
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              List.of(),
              world.restore(ns, standbyName));
    }
    return new RestoreObservation(
        cr,
        now,
        world.checkpoint(ns, cr.getSpec().checkpointName()),
        world.placeholder(ns, PlaceholderPods.podName(cr)),
        Optional.empty(),
        List.of(),
        Optional.empty());
  }
}
