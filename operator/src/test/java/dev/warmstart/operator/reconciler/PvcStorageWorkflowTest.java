package dev.warmstart.operator.reconciler;

import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.operator.support.ConditionAssert.assertThatConditions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointStorage;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.checkpoint.StoragePods;
import dev.warmstart.operator.reconciler.restore.RestoreWorkflow;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.RestoreStatusFactory;
import dev.warmstart.operator.support.Cluster;
import dev.warmstart.operator.support.FakeAgents;
import dev.warmstart.operator.support.LiveCheckpointWorld;
import dev.warmstart.operator.support.LiveRestoreWorld;
import dev.warmstart.operator.support.MutableClock;
import dev.warmstart.operator.support.Reconcile;
import dev.warmstart.operator.support.TestConfig;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A checkpoint kept on a PersistentVolumeClaim: exported through a storage pod on the checkpoint's
 * node, recorded as pvc://, restored on a node the scheduler picks, imported through the
 * placeholder that mounts the claim. Mock API server, agents faked (PvcStorageIT drives the real
 * copies).
 */
@EnableKubernetesMockClient(crud = true)
class PvcStorageWorkflowTest {
  KubernetesClient client;
  private final FakeAgents agents = new FakeAgents();
  private final MutableClock clock = new MutableClock();
  private Cluster cluster;
  private Reconcile<GpuCheckpoint, GpuCheckpointStatus> checkpoints;
  private Reconcile<GpuRestore, GpuRestoreStatus> restores;

  @BeforeEach
  void setUp() {
    agents.nodesWithAgent.add("gpu-1");
    agents.nodesWithAgent.add("gpu-2");
    cluster = new Cluster(client);
    var metrics = new OperatorMetrics(new SimpleMeterRegistry());
    var events = new EventRecorder(client, clock);
    checkpoints =
        new Reconcile<>(
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
                    new TestConfig(),
                    clock)),
            clock);
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
                    new TestConfig(),
                    clock)),
            clock);
    cluster.runningPod("llm-0", "gpu-1");
  }

  private void checkpointOnClaim(String name, String subPath) {
    GpuCheckpoint cr = new GpuCheckpoint();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    cr.setSpec(
        new GpuCheckpointSpec(
            "llm-0",
            null,
            null,
            new CheckpointStorage(null, new PersistentVolumeClaimStorage("images", subPath)),
            null,
            null));
    client.resource(cr).create();
  }

  private Pod pod(String name) {
    return client.pods().inNamespace(Cluster.NS).withName(name).get();
  }

  @Test
  void checkpointOnAClaimIsExportedThroughAStoragePodAndRestoredAnywhereFromIt() {
    checkpointOnClaim("ck", "shared");
    GpuCheckpoint ck = checkpoints.once("ck");
    Pod store = pod("ck-store");
    assertThat(store.getSpec().getNodeName()).isEqualTo("gpu-1");
    assertThat(store.getSpec().getVolumes())
        .anySatisfy(
            v -> assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("images"));
    assertThat(store.getSpec().getContainers().get(0).getResources().getRequests())
        .as("a small pod: no GPU")
        .containsOnlyKeys("cpu", "memory");
    assertThat(agents.submissions).as("nothing frozen before the claim is mounted").isEmpty();
    assertThatConditions(ck.getStatus().conditions()).has(Accepted, Unknown, "StoragePending");

    cluster.markRunning(store, "store", "containerd://store-cid");
    checkpoints.once("ck");
    ImageTransfer export = agents.submissions.get(0).checkpoint().exportTo();
    assertThat(export)
        .isEqualTo(new ImageTransfer("store-cid", "/warmstart-store", "shared", null));
    ck = checkpoints.untilSettled("ck", 10);
    assertThat(ck.getStatus().phase()).isEqualTo(CheckpointPhase.Succeeded);
    assertThat(ck.getStatus().artifact().location()).isEqualTo("pvc://images/shared/ml.ck");
    assertThat(ck.getStatus().artifact().storage().persistentVolumeClaim())
        .isEqualTo(new PersistentVolumeClaimStorage("images", "shared"));
    assertThat(ck.getStatus().artifact().imageName()).isEqualTo("ml.ck");
    assertThat(pod("ck-store")).as("the claim is released").isNull();

    GpuRestore r = new GpuRestore();
    r.setMetadata(new ObjectMetaBuilder().withName("r").withNamespace(Cluster.NS).build());
    r.setSpec(new GpuRestoreSpec("ck", null, null, null, null));
    client.resource(r).create();
    restores.once("r");
    Pod placeholder = pod("r");
    assertThat(placeholder.getSpec().getNodeName())
        .as("not pinned to the checkpoint's node")
        .isNull();
    assertThat(placeholder.getSpec().getVolumes())
        .filteredOn(v -> v.getPersistentVolumeClaim() != null)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("images");
              assertThat(v.getPersistentVolumeClaim().getReadOnly()).isTrue();
            });
    assertThat(placeholder.getSpec().getContainers().get(0).getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo(StoragePods.MOUNT_PATH));

    placeholder.getSpec().setNodeName("gpu-2"); // the scheduler's choice
    placeholder = client.resource(placeholder).update();
    cluster.markRunning(placeholder, "server", "containerd://placeholder-cid");
    restores.once("r");
    var req = agents.submissions.get(agents.submissions.size() - 1);
    assertThat(req.kind()).isEqualTo(OperationKind.RESTORE);
    assertThat(req.restore().importFrom())
        .isEqualTo(
            new ImageTransfer(
                "placeholder-cid",
                "/warmstart-store",
                "shared",
                ck.getStatus().artifact().digest()));
    assertThat(restores.untilSettled("r", 10).getStatus().phase()).isEqualTo(RestorePhase.Running);
  }

  @Test
  void aClaimThatCannotBeMountedFailsTheCheckpointWithoutFreezingAnything() {
    checkpointOnClaim("stuck", null);
    checkpoints.once("stuck");
    // The pod never runs (the claim is not bound): past the placeholder timeout after its creation
    // (the mock server stamps wall time), the checkpoint fails.
    Instant created = Instant.parse(pod("stuck-store").getMetadata().getCreationTimestamp());
    clock.advance(
        Duration.between(clock.instant(), created)
            .plus(new TestConfig().placeholderTimeout())
            .plus(Duration.ofMinutes(1)));
    GpuCheckpoint ck = checkpoints.once("stuck");
    assertThat(ck.getStatus().phase()).isEqualTo(CheckpointPhase.Failed);
    assertThat(ck.getStatus().message()).contains("claim images").contains("did not mount");
    assertThat(agents.submissions).isEmpty();
    assertThat(pod("stuck-store")).isNull();
  }
}
