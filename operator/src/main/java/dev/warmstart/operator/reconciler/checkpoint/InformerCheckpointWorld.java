package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The GpuCheckpoint's view of the cluster: its storage pod from an informer (labelled with the
 * checkpoint's name, so the pod starting wakes the checkpoint). The source pod is the user's, with
 * no label of ours: it is read with one GET per reconcile until the capture is dispatched, rather
 * than caching every pod of the cluster in the operator.
 */
final class InformerCheckpointWorld implements CheckpointWorld {
  private static final String STORAGE_PODS = "storagePods";

  private final Context<GpuCheckpoint> context;

  InformerCheckpointWorld(Context<GpuCheckpoint> context) {
    this.context = context;
  }

  static List<EventSource<?, GpuCheckpoint>> eventSources(EventSourceContext<GpuCheckpoint> ctx) {
    var storagePods =
        InformerEventSourceConfiguration.from(Pod.class, GpuCheckpoint.class)
            .withName(STORAGE_PODS)
            .withLabelSelector(StoragePods.LABEL)
            .withSecondaryToPrimaryMapper(
                p ->
                    Set.of(
                        new ResourceID(
                            p.getMetadata().getLabels().get(StoragePods.LABEL),
                            p.getMetadata().getNamespace())))
            .build();
    return List.of(new InformerEventSource<>(storagePods, ctx));
  }

  @Override
  public Optional<Pod> sourcePod(String namespace, String name) {
    return Optional.ofNullable(
        context.getClient().pods().inNamespace(namespace).withName(name).get());
  }

  @Override
  public Optional<Pod> storagePod(String namespace, String name) {
    var informer =
        (InformerEventSource<Pod, GpuCheckpoint>)
            context.eventSourceRetriever().getEventSourceFor(Pod.class, STORAGE_PODS);
    return informer.get(new ResourceID(name, namespace));
  }
}
