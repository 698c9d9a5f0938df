package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.operator.reconciler.ReconcileErrors;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.status.RestoreStatusFactory;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.util.List;

/**
 * GpuRestore: one workflow step per reconcile over the informer caches ({@link
 * InformerRestoreWorld}), status written by the StatusWriter. A checkpoint, pool or placeholder pod
 * changing wakes the restores that refer to it. The placeholder pod is a JOSDK dependent resource
 * ({@link PlaceholderPodResource}: create-only, garbage-collected with its GpuRestore), used
 * standalone because the decision to create it is the workflow's (its javadoc says why).
 */
// Not generation-aware: a standby is activated by an annotation, which leaves the generation as is;
// status-only updates (its own writes) are filtered out instead, so requeue delays hold.
@ControllerConfiguration(
    name = "gpurestore",
    generationAwareEventProcessing = false,
    informer = @Informer(onUpdateFilter = SpecOrMetadataChanged.class))
public class GpuRestoreReconciler implements Reconciler<GpuRestore> {
  private final RestoreWorkflow workflow;
  private final StatusWriter statusWriter;
  private final ReconcileErrors errors;
  private final RestoreStatusFactory status;
  private final PlaceholderPodResource placeholders = new PlaceholderPodResource();

  public GpuRestoreReconciler(
      RestoreWorkflow workflow,
      KubernetesClient client,
      ReconcileErrors errors,
      RestoreStatusFactory status) {
    this.workflow = workflow;
    this.statusWriter = new StatusWriter(client);
    this.errors = errors;
    this.status = status;
  }

  @Override
  public List<EventSource<?, GpuRestore>> prepareEventSources(
      EventSourceContext<GpuRestore> context) {
    return InformerRestoreWorld.eventSources(context, placeholders);
  }

  @Override
  public UpdateControl<GpuRestore> reconcile(GpuRestore cr, Context<GpuRestore> context) {
    return statusWriter.apply(
        cr, workflow.step(cr, new InformerRestoreWorld(context, placeholders)), context);
  }

  @Override
  public ErrorStatusUpdateControl<GpuRestore> updateErrorStatus(
      GpuRestore cr, Context<GpuRestore> context, Exception e) {
    return errors.handle(cr, context, e, status::reconcileError);
  }
}
