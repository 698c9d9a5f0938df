package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.operator.reconciler.Decision;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.util.Objects;

/** GpuCheckpoint: one workflow step per reconcile, status written as a merge patch. */
@ControllerConfiguration(name = "gpucheckpoint")
public class GpuCheckpointReconciler implements Reconciler<GpuCheckpoint>, Cleaner<GpuCheckpoint> {
  private final CheckpointWorkflow workflow;
  private final GpuCheckpointCleanup cleanup;

  public GpuCheckpointReconciler(CheckpointWorkflow workflow, GpuCheckpointCleanup cleanup) {
    this.workflow = workflow;
    this.cleanup = cleanup;
  }

  @Override
  public UpdateControl<GpuCheckpoint> reconcile(GpuCheckpoint cr, Context<GpuCheckpoint> context) {
    Decision<GpuCheckpointStatus> d = workflow.step(cr);
    UpdateControl<GpuCheckpoint> control;
    if (Objects.equals(d.status(), cr.getStatus())) {
      control = UpdateControl.noUpdate();
    } else {
      cr.setStatus(d.status());
      control = UpdateControl.patchStatus(cr);
    }
    d.requeueAfter().ifPresent(control::rescheduleAfter);
    return control;
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
