package dev.warmstart.operator.reconciler.pool;

import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import dev.warmstart.operator.PoolMetrics;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.ReconcileErrors;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.status.PoolStatusFactory;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;

/** GpuStandbyPool: keeps its standby GpuRestores at the replica count (they are owned by it). */
@ControllerConfiguration(name = "gpustandbypool")
public class GpuStandbyPoolReconciler implements Reconciler<GpuStandbyPool> {
  private final PoolWorkflow workflow;
  private final StatusWriter statusWriter;
  private final ReconcileErrors errors;
  private final PoolStatusFactory status;
  private final PoolMetrics metrics;

  public GpuStandbyPoolReconciler(
      PoolWorkflow workflow,
      KubernetesClient client,
      PoolMetrics metrics,
      ReconcileErrors errors,
      PoolStatusFactory status) {
    this.workflow = workflow;
    this.statusWriter = new StatusWriter(client);
    this.errors = errors;
    this.status = status;
    this.metrics = metrics;
  }

  @Override
  public UpdateControl<GpuStandbyPool> reconcile(GpuStandbyPool pool, Context<GpuStandbyPool> ctx) {
    Decision<GpuStandbyPoolStatus> d = workflow.step(pool);
    metrics.observed(pool, d.status());
    return statusWriter.apply(pool, d, ctx);
  }

  @Override
  public ErrorStatusUpdateControl<GpuStandbyPool> updateErrorStatus(
      GpuStandbyPool cr, Context<GpuStandbyPool> context, Exception e) {
    return errors.handle(cr, context, e, status::reconcileError);
  }
}
