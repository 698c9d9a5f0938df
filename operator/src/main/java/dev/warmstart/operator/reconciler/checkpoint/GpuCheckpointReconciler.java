package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.operator.reconciler.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;

/** GpuCheckpoint: one workflow step per reconcile, status written by the StatusWriter. */
@ControllerConfiguration(name = "gpucheckpoint")
public class GpuCheckpointReconciler implements Reconciler<GpuCheckpoint>, Cleaner<GpuCheckpoint> {
  private final CheckpointWorkflow workflow;
  private final GpuCheckpointCleanup cleanup;
  private final StatusWriter statusWriter;

  public GpuCheckpointReconciler(
      CheckpointWorkflow workflow, GpuCheckpointCleanup cleanup, KubernetesClient client) {
    this.workflow = workflow;
    this.cleanup = cleanup;
    this.statusWriter = new StatusWriter(client);
  }

  @Override
  public UpdateControl<GpuCheckpoint> reconcile(GpuCheckpoint cr, Context<GpuCheckpoint> context) {
    return statusWriter.apply(cr, workflow.step(cr));
  }

  @Override
  public DeleteControl cleanup(GpuCheckpoint cr, Context<GpuCheckpoint> context) {
    int attempt =
        context == null ? 1 : context.getRetryInfo().map(r -> r.getAttemptCount()).orElse(1);
    return cleanup
        .cleanup(cr, attempt)
        .map(d -> DeleteControl.noFinalizerRemoval().rescheduleAfter(d))
        .orElseGet(DeleteControl::defaultDelete);
  }
}
