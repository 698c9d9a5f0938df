package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.operator.reconciler.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;

/**
 * GpuRestore: one workflow step per reconcile, status written by the StatusWriter. The placeholder
 * pod is owned by the GpuRestore, so deleting the restore deletes it (garbage collection).
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

  public GpuRestoreReconciler(RestoreWorkflow workflow, KubernetesClient client) {
    this.workflow = workflow;
    this.statusWriter = new StatusWriter(client);
  }

  @Override
  public UpdateControl<GpuRestore> reconcile(GpuRestore cr, Context<GpuRestore> context) {
    return statusWriter.apply(cr, workflow.step(cr));
  }
}
