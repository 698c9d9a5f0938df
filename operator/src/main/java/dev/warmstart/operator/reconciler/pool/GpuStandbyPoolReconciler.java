package dev.warmstart.operator.reconciler.pool;

import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.operator.reconciler.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;

/** GpuStandbyPool: keeps its standby GpuRestores at the replica count (they are owned by it). */
@ControllerConfiguration(name = "gpustandbypool")
public class GpuStandbyPoolReconciler implements Reconciler<GpuStandbyPool> {
  private final PoolWorkflow workflow;
  private final StatusWriter statusWriter;

  public GpuStandbyPoolReconciler(PoolWorkflow workflow, KubernetesClient client) {
    this.workflow = workflow;
    this.statusWriter = new StatusWriter(client);
  }

  @Override
  public UpdateControl<GpuStandbyPool> reconcile(GpuStandbyPool pool, Context<GpuStandbyPool> ctx) {
    return statusWriter.apply(pool, workflow.step(pool));
  }
}
