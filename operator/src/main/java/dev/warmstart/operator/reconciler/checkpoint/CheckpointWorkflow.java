package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.OperationTracker;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;

/**
 * The GpuCheckpoint state machine, one step per reconcile: observe (the CR, its pod, its storage
 * pod), decide ({@link CheckpointDecider}, pure), act ({@link CheckpointExecutor}). Never blocks on
 * the agent beyond one call.
 */
@ApplicationScoped
public class CheckpointWorkflow {
  private final CheckpointDecider decider;
  private final CheckpointExecutor executor;
  private final Clock clock;

  public CheckpointWorkflow(
      KubernetesClient client,
      NodeAgentClient agents,
      CheckpointStatusFactory status,
      EventRecorder events,
      OperatorMetrics metrics,
      OperatorConfig config,
      Clock clock) {
    this.decider = new CheckpointDecider(config.placeholderTimeout());
    this.executor =
        new CheckpointExecutor(
            client,
            new OperationTracker(agents, metrics, config, clock),
            decider,
            status,
            events,
            metrics,
            config,
            clock);
    this.clock = clock;
  }

  public static String idempotencyKey(GpuCheckpoint cr) {
    return "gck-" + cr.getMetadata().getUid();
  }

  /**
   * The image name a capture is sent with: unique per node, as CRs are per namespace. Only the
   * capture (and a cleanup before there is an artifact) use it; everything after reads the name the
   * agent reported from the artifact.
   */
  public static String imageName(GpuCheckpoint cr) {
    return cr.getMetadata().getNamespace() + "." + cr.getMetadata().getName();
  }

  public Decision<GpuCheckpointStatus> step(GpuCheckpoint cr, CheckpointWorld world) {
    CheckpointObservation observed = CheckpointObservation.of(cr, world, clock.instant());
    CheckpointAction action = decider.decide(observed);
    return action.applyTo(cr, executor, world);
  }
}
