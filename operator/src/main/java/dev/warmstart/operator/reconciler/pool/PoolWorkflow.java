package dev.warmstart.operator.reconciler.pool;

import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.OwnerReferences;
import dev.warmstart.operator.status.PoolStatusFactory;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Keeps a pool's standbys at its replica count: each is a GpuRestore in standby mode, labelled with
 * the pool and owned by it. A failed standby (e.g. its process died) is deleted and replaced; a
 * claimed one leaves the pool (its label goes), so the pool refills.
 */
@ApplicationScoped
public class PoolWorkflow {
  public static final String POOL_LABEL = "warmstart.dev/pool";
  public static final String CLAIMED_LABEL = "warmstart.dev/claimed-by";

  private final KubernetesClient client;
  private final PoolStatusFactory status;
  private final EventRecorder events;
  private final OperatorConfig config;

  public PoolWorkflow(
      KubernetesClient client,
      PoolStatusFactory status,
      EventRecorder events,
      OperatorConfig config) {
    this.client = client;
    this.status = status;
    this.events = events;
    this.config = config;
  }

  public static List<GpuRestore> members(KubernetesClient client, String ns, String pool) {
    return client
        .resources(GpuRestore.class)
        .inNamespace(ns)
        .withLabel(POOL_LABEL, pool)
        .list()
        .getItems();
  }

  public Decision<GpuStandbyPoolStatus> step(GpuStandbyPool pool) {
    String ns = pool.getMetadata().getNamespace();
    List<GpuRestore> live = new ArrayList<>();
    for (GpuRestore m : members(client, ns, pool.getMetadata().getName())) {
      if (phase(m) == RestorePhase.Failed) {
        client.resource(m).delete();
        events.warning(
            pool,
            EventReason.StandbyReplaced,
            "standby "
                + m.getMetadata().getName()
                + " failed ("
                + (m.getStatus() == null ? "" : m.getStatus().message())
                + "); replacing it");
      } else {
        live.add(m);
      }
    }
    int wanted = pool.getSpec().replicas();
    while (live.size() < wanted) {
      GpuRestore created = client.resource(standby(pool)).create();
      events.normal(pool, EventReason.StandbyCreated, "standby " + created.getMetadata().getName());
      live.add(created);
    }
    if (live.size() > wanted) {
      // Scale down: the least advanced first.
      live.sort(Comparator.comparing((GpuRestore m) -> phase(m) == RestorePhase.Standby));
      for (GpuRestore extra : List.copyOf(live.subList(0, live.size() - wanted))) {
        client.resource(extra).delete();
        live.remove(extra);
      }
    }
    List<GpuStandbyPoolStatus.Standby> standbys = new ArrayList<>();
    int ready = 0;
    for (GpuRestore m : live) {
      ready += phase(m) == RestorePhase.Standby ? 1 : 0;
      standbys.add(
          new GpuStandbyPoolStatus.Standby(
              m.getMetadata().getName(),
              m.getStatus() == null ? null : m.getStatus().podName(),
              m.getStatus() == null ? null : m.getStatus().nodeName(),
              null,
              phase(m)));
    }
    standbys.sort(Comparator.comparing(GpuStandbyPoolStatus.Standby::restoreName));
    return Decision.after(status.observed(pool, standbys, ready), config.pollInterval());
  }

  private GpuRestore standby(GpuStandbyPool pool) {
    String name = pool.getMetadata().getName() + "-" + UUID.randomUUID().toString().substring(0, 5);
    GpuRestore r = new GpuRestore();
    r.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(pool.getMetadata().getNamespace())
            .withLabels(Map.of(POOL_LABEL, pool.getMetadata().getName()))
            .withOwnerReferences(OwnerReferences.controller(pool))
            .build());
    r.setSpec(
        new GpuRestoreSpec(
            pool.getSpec().checkpointName(),
            null,
            null,
            pool.getSpec().nodeSelector(),
            null,
            pool.getSpec().tier(),
            null));
    return r;
  }

  private static RestorePhase phase(GpuRestore r) {
    return r.getStatus() == null ? null : r.getStatus().phase();
  }
}
