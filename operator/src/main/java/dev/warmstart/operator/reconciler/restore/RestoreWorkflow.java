package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.OperationTracker;
import dev.warmstart.operator.status.RestoreStatusFactory;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;

/**
 * The GpuRestore state machine, one step per reconcile: observe (the CR, its checkpoint, its
 * placeholder pod, its pool), decide ({@link RestoreDecider}, pure), act ({@link RestoreExecutor}).
 * The restore finds its checkpoint, creates the placeholder pod, and when it runs asks its node's
 * agent to restore into it (idempotency key from the CR's UID), then polls until done; a failure
 * after the placeholder exists deletes it. A pooled restore takes a standby instead ({@link
 * PoolClaim}).
 */
@ApplicationScoped
public class RestoreWorkflow {
  private final RestoreDecider decider;
  private final RestoreExecutor executor;
  private final Clock clock;

  public RestoreWorkflow(
      KubernetesClient client,
      NodeAgentClient agents,
      RestoreStatusFactory status,
      EventRecorder events,
      OperatorMetrics metrics,
      OperatorConfig config,
      Clock clock) {
    this.decider = new RestoreDecider(config.placeholderTimeout());
    this.executor =
        new RestoreExecutor(
            client,
            new OperationTracker(agents, metrics, config, clock),
            decider,
            status,
            events,
            config);
    this.clock = clock;
  }

  public Decision<GpuRestoreStatus> step(GpuRestore cr, RestoreWorld world) {
    RestoreObservation observed = RestoreObservation.of(cr, world, clock.instant());
    RestoreAction action = decider.decide(observed);
    return action.applyTo(cr, executor.in(world));
  }
}
