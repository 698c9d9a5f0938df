package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.operator.reconciler.pool.PoolWorkflow;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The GpuRestore's view of the cluster from JOSDK's informer caches: the GpuRestores themselves
 * (indexed by pool label, by checkpoint and by pool named in the spec), informers on GpuCheckpoints
 * and GpuStandbyPools that wake the restores referring to them, and the placeholder pods through
 * their dependent resource ({@link PlaceholderPodResource}), whose informer wakes the owning
 * restore.
 */
final class InformerRestoreWorld implements RestoreWorld {
  private static final String CHECKPOINTS = "checkpoints";
  private static final String POOLS = "pools";
  private static final String BY_POOL_LABEL = "byPoolLabel";
  private static final String BY_CHECKPOINT = "byCheckpoint";
  private static final String BY_POOL_SPEC = "byPoolSpec";

  private final Context<GpuRestore> context;
  private final PlaceholderPodResource placeholders;

  InformerRestoreWorld(Context<GpuRestore> context, PlaceholderPodResource placeholders) {
    this.context = context;
    this.placeholders = placeholders;
  }

  /** The event sources (and primary indexes) the reads below rely on. */
  static List<EventSource<?, GpuRestore>> eventSources(
      EventSourceContext<GpuRestore> ctx, PlaceholderPodResource placeholders) {
    IndexerResourceCache<GpuRestore> restores = ctx.getPrimaryCache();
    restores.addIndexer(
        BY_POOL_LABEL, r -> key(r.getMetadata().getNamespace(), label(r, PoolWorkflow.POOL_LABEL)));
    restores.addIndexer(
        BY_CHECKPOINT, r -> key(r.getMetadata().getNamespace(), r.getSpec().checkpointName()));
    restores.addIndexer(
        BY_POOL_SPEC, r -> key(r.getMetadata().getNamespace(), r.getSpec().poolName()));
    var checkpoints =
        InformerEventSourceConfiguration.from(GpuCheckpoint.class, GpuRestore.class)
            .withName(CHECKPOINTS)
            .withSecondaryToPrimaryMapper(referring(restores, BY_CHECKPOINT))
            .build();
    var pools =
        InformerEventSourceConfiguration.from(GpuStandbyPool.class, GpuRestore.class)
            .withName(POOLS)
            .withSecondaryToPrimaryMapper(referring(restores, BY_POOL_SPEC))
            .build();
    return List.of(
        new InformerEventSource<>(checkpoints, ctx),
        new InformerEventSource<>(pools, ctx),
        placeholders.eventSource(ctx).orElseThrow());
  }

  @Override
  public Optional<GpuCheckpoint> checkpoint(String namespace, String name) {
    return cached(GpuCheckpoint.class, CHECKPOINTS, namespace, name);
  }

  @Override
  public Optional<Pod> placeholder(String namespace, String name) {
    return placeholders.eventSource().orElseThrow().get(new ResourceID(name, namespace));
  }

  @Override
  public Optional<GpuStandbyPool> pool(String namespace, String name) {
    return cached(GpuStandbyPool.class, POOLS, namespace, name);
  }

  @Override
  public List<GpuRestore> poolMembers(String namespace, String pool) {
    return context.getPrimaryCache().byIndex(BY_POOL_LABEL, namespace + "/" + pool);
  }

  @Override
  public Optional<GpuRestore> restore(String namespace, String name) {
    return context.getPrimaryCache().get(new ResourceID(name, namespace));
  }

  @Override
  public void createPlaceholder(GpuRestore cr, Pod desired) {
    context
        .managedWorkflowAndDependentResourceContext()
        .put(PlaceholderPodResource.DESIRED, desired);
    placeholders.reconcile(cr, context);
  }

  @Override
  public void deletePlaceholder(GpuRestore cr) {
    placeholders.delete(cr, context);
  }

  private <R extends HasMetadata> Optional<R> cached(
      Class<R> type, String source, String namespace, String name) {
    var informer =
        (InformerEventSource<R, GpuRestore>)
            context.eventSourceRetriever().getEventSourceFor(type, source);
    return informer.get(new ResourceID(name, namespace));
  }

  /** The restores whose index entry names the changed resource. */
  private static <R extends HasMetadata> SecondaryToPrimaryMapper<R> referring(
      IndexerResourceCache<GpuRestore> restores, String index) {
    return r ->
        restores
            .byIndex(index, r.getMetadata().getNamespace() + "/" + r.getMetadata().getName())
            .stream()
            .map(ResourceID::fromResource)
            .collect(Collectors.toSet());
  }

  private static List<String> key(String namespace, String name) {
    return name == null ? List.of() : List.of(namespace + "/" + name);
  }

  private static String label(HasMetadata r, String label) {
    return r.getMetadata().getLabels() == null ? null : r.getMetadata().getLabels().get(label);
  }
}
