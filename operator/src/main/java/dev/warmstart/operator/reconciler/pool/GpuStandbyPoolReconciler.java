package dev.warmstart.operator.reconciler.pool;

import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.StatusWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.Objects;

/** GpuStandbyPool: keeps its standby GpuRestores at the replica count (they are owned by it). */
@ControllerConfiguration(name = "gpustandbypool")
public class GpuStandbyPoolReconciler implements Reconciler<GpuStandbyPool> {
  private static final Duration CONFLICT_RETRY = Duration.ofSeconds(1);
  private final PoolWorkflow workflow;
  private final StatusWriter statusWriter;

  public GpuStandbyPoolReconciler(PoolWorkflow workflow, KubernetesClient client) {
    this.workflow = workflow;
    this.statusWriter = new StatusWriter(client);
  }

  @Override
  public UpdateControl<GpuStandbyPool> reconcile(GpuStandbyPool pool, Context<GpuStandbyPool> ctx) {
    Decision<GpuStandbyPoolStatus> d = workflow.step(pool);
    UpdateControl<GpuStandbyPool> control = UpdateControl.noUpdate();
    if (!Objects.equals(d.status(), pool.getStatus())) {
      pool.setStatus(d.status());
      if (!statusWriter.write(pool)) {
        return control.rescheduleAfter(CONFLICT_RETRY);
      }
    }
    d.requeueAfter().ifPresent(control::rescheduleAfter);
    return control;
  }
}
