package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Optional;

/**
 * What a GpuRestore's reconcile reads of the cluster, and its placeholder pod, the one resource it
 * owns. In the operator these are informer caches and the placeholder's JOSDK dependent resource
 * ({@link InformerRestoreWorld}, {@link PlaceholderPodResource}); the workflow never reads the API
 * server itself.
 */
public interface RestoreWorld {
  Optional<GpuCheckpoint> checkpoint(String namespace, String name);

  /** A placeholder pod (labelled as one) of that name; a user's unlabelled pod is not seen. */
  Optional<Pod> placeholder(String namespace, String name);

  Optional<GpuStandbyPool> pool(String namespace, String name);

  /** The GpuRestores labelled as the pool's standbys. */
  List<GpuRestore> poolMembers(String namespace, String pool);

  Optional<GpuRestore> restore(String namespace, String name);

  /** Creates the restore's placeholder pod from {@code desired}; never updates an existing one. */
  void createPlaceholder(GpuRestore cr, Pod desired);

  /** Deletes the restore's placeholder pod, if it has one (a user's pod is never deleted). */
  void deletePlaceholder(GpuRestore cr);
}
