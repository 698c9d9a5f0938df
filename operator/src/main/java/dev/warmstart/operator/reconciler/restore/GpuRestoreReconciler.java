package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.operator.reconciler.Decision;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.util.Objects;

/**
 * GpuRestore: one workflow step per reconcile, status written as a merge patch. The placeholder pod
 * is owned by the GpuRestore, so deleting the restore deletes it (garbage collection).
 */
@ControllerConfiguration(name = "gpurestore")
public class GpuRestoreReconciler implements Reconciler<GpuRestore> {
  private final RestoreWorkflow workflow;

  public GpuRestoreReconciler(RestoreWorkflow workflow) {
    this.workflow = workflow;
  }

  @Override
  public UpdateControl<GpuRestore> reconcile(GpuRestore cr, Context<GpuRestore> context) {
    Decision<GpuRestoreStatus> d = workflow.step(cr);
    UpdateControl<GpuRestore> control;
    if (Objects.equals(d.status(), cr.getStatus())) {
      control = UpdateControl.noUpdate();
    } else {
      cr.setStatus(d.status());
      control = UpdateControl.patchStatus(cr);
    }
    d.requeueAfter().ifPresent(control::rescheduleAfter);
    return control;
  }
}
