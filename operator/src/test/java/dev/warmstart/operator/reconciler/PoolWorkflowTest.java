package dev.warmstart.operator.reconciler;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;
import static dev.warmstart.operator.support.ConditionAssert.assertThatConditions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolSpec;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.api.v1alpha1.StandbyMode;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.pool.PoolWorkflow;
import dev.warmstart.operator.reconciler.restore.RestoreWorkflow;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.PoolStatusFactory;
import dev.warmstart.operator.status.RestoreStatusFactory;
import dev.warmstart.operator.support.Cluster;
import dev.warmstart.operator.support.FakeAgents;
import dev.warmstart.operator.support.LiveCheckpointWorld;
import dev.warmstart.operator.support.LiveRestoreWorld;
import dev.warmstart.operator.support.MutableClock;
import dev.warmstart.operator.support.Reconcile;
import dev.warmstart.operator.support.TestConfig;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GpuStandbyPool and restores that take its standbys, against the mock server, agents faked. */
@EnableKubernetesMockClient(crud = true)
class PoolWorkflowTest {
  KubernetesClient client;
  private FakeAgents agents;
  private Cluster cluster;
  private Reconcile<GpuRestore, GpuRestoreStatus> restores;
  private Reconcile<GpuStandbyPool, GpuStandbyPoolStatus> pools;

  @BeforeEach
  void setUp() {
    agents = new FakeAgents();
    agents.nodesWithAgent.add("gpu-1");
    MutableClock clock = new MutableClock();
    cluster = new Cluster(client);
    var metrics = new OperatorMetrics(new SimpleMeterRegistry());
    var events = new EventRecorder(client, clock);
    var config = new TestConfig();
    var checkpoints =
        new Reconcile<GpuCheckpoint, GpuCheckpointStatus>(
            client,
            GpuCheckpoint.class,
            LiveCheckpointWorld.steps(
                client,
                new CheckpointWorkflow(
                    client,
                    agents,
                    new CheckpointStatusFactory(clock),
                    events,
                    metrics,
                    config,
                    clock)),
            clock);
    cluster.runningPod("llm-0", "gpu-1");
    cluster.checkpoint("ck", "llm-0");
    checkpoints.untilSettled("ck", 10);
    restores =
        new Reconcile<>(
            client,
            GpuRestore.class,
            LiveRestoreWorld.steps(
                client,
                new RestoreWorkflow(
                    client,
                    agents,
                    new RestoreStatusFactory(clock),
                    events,
                    metrics,
                    config,
                    clock)),
            clock);
    pools =
        new Reconcile<>(
            client,
            GpuStandbyPool.class,
            new PoolWorkflow(client, new PoolStatusFactory(clock), events, config)::step,
            clock);
  }

  private void pool(String name, int replicas, StandbyMode tier) {
    GpuStandbyPool p = new GpuStandbyPool();
    p.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    p.setSpec(new GpuStandbyPoolSpec("ck", replicas, tier, null));
    client.resource(p).create();
  }

  private List<GpuRestore> members(String pool) {
    return PoolWorkflow.members(client, Cluster.NS, pool);
  }

  /** Plays kubelet for each member's placeholder and reconciles it to Standby. */
  private void bringUp(List<GpuRestore> members) {
    for (GpuRestore m : members) {
      String name = m.getMetadata().getName();
      restores.once(name);
      cluster.markRunning(
          client.pods().inNamespace(Cluster.NS).withName(name).get(),
          "server",
          "containerd://" + name);
      for (int i = 0;
          i < 10 && restores.get(name).getStatus().phase() != RestorePhase.Standby;
          i++) {
        restores.once(name);
      }
    }
  }

  private GpuRestore restoreFromPool(String name, String pool) {
    GpuRestore r = new GpuRestore();
    r.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    r.setSpec(new GpuRestoreSpec("ck", null, "gpu-1", null, null, null, pool));
    return client.resource(r).create();
  }

  @Test
  void poolKeepsItsStandbysReadyAndARestoreTakesOneWhichThePoolReplaces() {
    pool("p", 2, StandbyMode.Hot);
    GpuStandbyPool p = pools.once("p");
    assertThat(members("p"))
        .hasSize(2)
        .allSatisfy(
            m -> {
              assertThat(m.getSpec().standby()).isEqualTo(StandbyMode.Hot);
              assertThat(m.getMetadata().getOwnerReferences())
                  .singleElement()
                  .satisfies(o -> assertThat(o.getName()).isEqualTo("p"));
            });
    assertThatConditions(p.getStatus().conditions()).has(Ready, False, "Filling");

    bringUp(members("p"));
    p = pools.once("p");
    assertThat(p.getStatus().ready()).isEqualTo(2);
    assertThat(p.getStatus().total()).isEqualTo(2);
    assertThat(p.getStatus().standbys())
        .allSatisfy(
            sb -> {
              assertThat(sb.phase()).isEqualTo(RestorePhase.Standby);
              assertThat(sb.nodeName()).isEqualTo("gpu-1");
              assertThat(sb.podName()).isEqualTo(sb.restoreName());
            });
    assertThatConditions(p.getStatus().conditions()).has(Ready, True, "Filled");

    restoreFromPool("u", "p");
    GpuRestore u = restores.once("u");
    String taken = u.getStatus().standbyName();
    assertThat(taken).isNotNull();
    assertThat(u.getStatus().phase()).isEqualTo(RestorePhase.Restoring);
    GpuRestore claimed = restores.get(taken);
    assertThat(claimed.getMetadata().getLabels())
        .containsEntry(PoolWorkflow.CLAIMED_LABEL, "u")
        .doesNotContainKey(PoolWorkflow.POOL_LABEL);
    assertThat(claimed.getMetadata().getAnnotations())
        .containsEntry("warmstart.dev/activate", "true");

    p = pools.once("p");
    assertThat(members("p"))
        .as("refilled")
        .hasSize(2)
        .noneMatch(m -> m.getMetadata().getName().equals(taken));
    assertThat(p.getStatus().ready()).isEqualTo(1);

    restores.untilSettled(taken, 10); // the claimed standby activates
    assertThat(restores.get(taken).getStatus().phase()).isEqualTo(RestorePhase.Running);
    u = restores.once("u");
    assertThat(u.getStatus().phase()).isEqualTo(RestorePhase.Running);
    assertThat(u.getStatus().podName()).isEqualTo(taken);
    assertThat(u.getStatus().timings()).containsKey("activation");
    assertThat(agents.operations(OperationKind.ACTIVATE)).isEqualTo(1);
  }

  @Test
  void aDeadStandbyIsReplacedAndRestoresWithoutAReadyStandbyWaitOrFail() {
    pool("p", 1, StandbyMode.Warm);
    pools.once("p");
    bringUp(members("p"));
    GpuRestore dead = members("p").get(0);
    dead.setStatus(
        new GpuRestoreStatus(
            RestorePhase.Failed,
            "gpu-1",
            dead.getMetadata().getName(),
            1L,
            List.of(),
            null,
            "op",
            1,
            null,
            null,
            "StandbyLost: process gone"));
    client.resource(dead).updateStatus();
    pools.once("p");
    assertThat(members("p"))
        .singleElement()
        .satisfies(
            m -> assertThat(m.getMetadata().getName()).isNotEqualTo(dead.getMetadata().getName()));

    pool("empty", 0, StandbyMode.Warm);
    pools.once("empty");
    restoreFromPool("u1", "empty");
    GpuRestore u1 = restores.once("u1");
    assertThat(u1.getStatus().phase()).isEqualTo(RestorePhase.Pending);
    assertThatConditions(u1.getStatus().conditions()).has(Accepted, Unknown, "NoStandbyReady");

    restoreFromPool("u2", "nope");
    assertThatConditions(restores.once("u2").getStatus().conditions())
        .has(Accepted, False, "PoolNotFound");
  }
}
