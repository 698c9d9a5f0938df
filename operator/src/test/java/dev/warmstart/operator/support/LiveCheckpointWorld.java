package dev.warmstart.operator.support;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorld;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;
import java.util.function.Function;

/**
 * A fake of the operator's storage pod cache for workflow tests: reads the mock API server
 * directly, so a test's reconcile sees what the test just wrote.
 */
public final class LiveCheckpointWorld implements CheckpointWorld {
  private final KubernetesClient client;

  public LiveCheckpointWorld(KubernetesClient client) {
    this.client = client;
  }

  /** The workflow's step, reading through this world. */
  public static Function<GpuCheckpoint, Decision<GpuCheckpointStatus>> steps(
      KubernetesClient client, CheckpointWorkflow workflow) {
    CheckpointWorld world = new LiveCheckpointWorld(client);
    return cr -> workflow.step(cr, world);
  }

  @Override
  public Optional<Pod> sourcePod(String namespace, String name) {
    return Optional.ofNullable(client.pods().inNamespace(namespace).withName(name).get());
  }

  @Override
  public Optional<Pod> storagePod(String namespace, String name) {
    return Optional.ofNullable(client.pods().inNamespace(namespace).withName(name).get());
  }
}
