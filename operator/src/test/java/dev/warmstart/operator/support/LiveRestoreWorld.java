package dev.warmstart.operator.support;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.pool.PoolWorkflow;
import dev.warmstart.operator.reconciler.restore.PlaceholderPods;
import dev.warmstart.operator.reconciler.restore.RestoreWorkflow;
import dev.warmstart.operator.reconciler.restore.RestoreWorld;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A fake of the operator's informer caches and of the placeholder's JOSDK dependent resource for
 * workflow tests: reads and writes the mock API server directly, so a test's reconcile sees what
 * the test just wrote (the operator's caches and the real {@code PlaceholderPodResource} are
 * exercised by OperatorReconcilesTest and the real-cluster suite).
 */
public final class LiveRestoreWorld implements RestoreWorld {
  private final KubernetesClient client;

  public LiveRestoreWorld(KubernetesClient client) {
    this.client = client;
  }

  /** The workflow's step, reading through this world. */
  public static Function<GpuRestore, Decision<GpuRestoreStatus>> steps(
      KubernetesClient client, RestoreWorkflow workflow) {
    RestoreWorld world = new LiveRestoreWorld(client);
    return cr -> workflow.step(cr, world);
  }

  @Override
  public Optional<GpuCheckpoint> checkpoint(String namespace, String name) {
    return Optional.ofNullable(
        client.resources(GpuCheckpoint.class).inNamespace(namespace).withName(name).get());
  }

  @Override
  public Optional<Pod> placeholder(String namespace, String name) {
    return Optional.ofNullable(client.pods().inNamespace(namespace).withName(name).get());
  }

  @Override
  public Optional<GpuStandbyPool> pool(String namespace, String name) {
    return Optional.ofNullable(
        client.resources(GpuStandbyPool.class).inNamespace(namespace).withName(name).get());
  }

  @Override
  public List<GpuRestore> poolMembers(String namespace, String pool) {
    return client
        .resources(GpuRestore.class)
        .inNamespace(namespace)
        .withLabel(PoolWorkflow.POOL_LABEL, pool)
        .list()
        .getItems();
  }

  @Override
  public Optional<GpuRestore> restore(String namespace, String name) {
    return Optional.ofNullable(
        client.resources(GpuRestore.class).inNamespace(namespace).withName(name).get());
  }

  /** As the dependent resource does: the owner reference added (a no-op when set), then create. */
  @Override
  public void createPlaceholder(GpuRestore cr, Pod desired) {
    desired.addOwnerReference(cr);
    client.resource(desired).create();
  }

  /** As the dependent resource does: only a pod its informer holds, labelled and owned by cr. */
  @Override
  public void deletePlaceholder(GpuRestore cr) {
    placeholder(cr.getMetadata().getNamespace(), PlaceholderPods.podName(cr))
        .filter(p -> p.getMetadata().getLabels().containsKey(PlaceholderPods.RESTORE_LABEL))
        .filter(p -> PlaceholderPods.ownedBy(p, cr))
        .ifPresent(p -> client.resource(p).delete());
  }
}
