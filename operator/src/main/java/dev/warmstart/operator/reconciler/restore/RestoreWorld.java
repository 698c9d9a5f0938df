package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Optional;

/**
 * What a GpuRestore's reconcile reads of the cluster. In the operator these are informer caches
 * ({@link InformerRestoreWorld}); the workflow never reads the API server itself.
 */
public interface RestoreWorld {
  Optional<GpuCheckpoint> checkpoint(String namespace, String name);

  /** A placeholder pod (labelled as one) of that name; a user's unlabelled pod is not seen. */
  Optional<Pod> placeholder(String namespace, String name);

  Optional<GpuStandbyPool> pool(String namespace, String name);

  /** The GpuRestores labelled as the pool's standbys. */
  List<GpuRestore> poolMembers(String namespace, String pool);

  Optional<GpuRestore> restore(String namespace, String name);
}
