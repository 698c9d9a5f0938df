package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.operator.reconciler.ReconcileErrors;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.util.List;

/** GpuCheckpoint: one workflow step per reconcile, status written by the StatusWriter. */
@ControllerConfiguration(name = "gpucheckpoint")
public class GpuCheckpointReconciler implements Reconciler<GpuCheckpoint>, Cleaner<GpuCheckpoint> {
  private final CheckpointWorkflow workflow;
  private final GpuCheckpointCleanup cleanup;
  private final StatusWriter statusWriter;
  private final ReconcileErrors errors;
  private final CheckpointStatusFactory status;

  public GpuCheckpointReconciler(
      CheckpointWorkflow workflow,
      GpuCheckpointCleanup cleanup,
      KubernetesClient client,
      ReconcileErrors errors,
      CheckpointStatusFactory status) {
    this.workflow = workflow;
    this.cleanup = cleanup;
    this.statusWriter = new StatusWriter(client);
    this.errors = errors;
    this.status = status;
  }

  @Override
  public List<EventSource<?, GpuCheckpoint>> prepareEventSources(
      EventSourceContext<GpuCheckpoint> context) {
    return InformerCheckpointWorld.eventSources(context);
  }

  @Override
  public UpdateControl<GpuCheckpoint> reconcile(GpuCheckpoint cr, Context<GpuCheckpoint> context) {
    return statusWriter.apply(cr, workflow.step(cr, new InformerCheckpointWorld(context)), context);
  }

  @Override
  public ErrorStatusUpdateControl<GpuCheckpoint> updateErrorStatus(
      GpuCheckpoint cr, Context<GpuCheckpoint> context, Exception e) {
    return errors.handle(cr, context, e, status::reconcileError);
  }

  @Override
  public DeleteControl cleanup(GpuCheckpoint cr, Context<GpuCheckpoint> context) {
    return cleanup
        .cleanup(cr)
        .map(d -> DeleteControl.noFinalizerRemoval().rescheduleAfter(d))
        .orElseGet(DeleteControl::defaultDelete);
  }
}
