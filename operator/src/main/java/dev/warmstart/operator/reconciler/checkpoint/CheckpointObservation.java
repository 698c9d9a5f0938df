package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Instant;
import java.util.Optional;

/**
 * Everything one decision about a GpuCheckpoint looks at.
 *
 * @param pod the pod to checkpoint (not read while the capture runs: see {@link #withSourcePod})
 * @param storagePod the pod mounting the checkpoint's claim, when it is kept on one
 */
public record CheckpointObservation(
    GpuCheckpoint cr, Instant now, Optional<Pod> pod, Optional<Pod> storagePod) {

  public static CheckpointObservation of(GpuCheckpoint cr, CheckpointWorld world, Instant now) {
    String ns = cr.getMetadata().getNamespace();
    boolean terminal =
        cr.getStatus() != null
            && cr.getStatus().phase() != null
            && cr.getStatus().phase().isTerminal();
    boolean following = cr.getStatus() != null && cr.getStatus().operationId() != null;
    if (terminal || following) {
      return new CheckpointObservation(cr, now, Optional.empty(), Optional.empty());
    }
    return new CheckpointObservation(
        cr,
        now,
        world.sourcePod(ns, cr.getSpec().podName()),
        StoragePods.claim(cr).isPresent()
            ? world.storagePod(ns, StoragePods.podName(cr))
            : Optional.empty());
  }

  /** This observation with the source pod read: what a finished capture's artifact records. */
  public CheckpointObservation withSourcePod(CheckpointWorld world) {
    return new CheckpointObservation(
        cr,
        now,
        world.sourcePod(cr.getMetadata().getNamespace(), cr.getSpec().podName()),
        storagePod);
  }
}
