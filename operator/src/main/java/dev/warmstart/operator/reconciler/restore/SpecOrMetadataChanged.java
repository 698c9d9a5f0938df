package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuRestore;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import java.util.Objects;

/**
 * Which GpuRestore updates start a reconcile: spec (generation) and metadata changes, such as the
 * activation annotation or a pool's relabelling, but not the operator's own status writes. Without
 * it every status write of a retry reconciled again at once, so on a real API server an agent
 * restarting for ~20 s used up all attempts in ~6 s, ignoring the backoff.
 */
public class SpecOrMetadataChanged implements OnUpdateFilter<GpuRestore> {
  @Override
  public boolean accept(GpuRestore updated, GpuRestore old) {
    ObjectMeta n = updated.getMetadata();
    ObjectMeta o = old.getMetadata();
    return !Objects.equals(n.getGeneration(), o.getGeneration())
        || !Objects.equals(n.getAnnotations(), o.getAnnotations())
        || !Objects.equals(n.getLabels(), o.getLabels())
        || !Objects.equals(n.getOwnerReferences(), o.getOwnerReferences())
        || !Objects.equals(n.getFinalizers(), o.getFinalizers())
        || !Objects.equals(n.getDeletionTimestamp(), o.getDeletionTimestamp());
  }
}
