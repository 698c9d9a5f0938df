package dev.warmstart.operator.reconciler;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.PlaceholderReady;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;
import static dev.warmstart.operator.support.ConditionAssert.assertThatConditions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.RestoreStage;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.HttpHook;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.api.v1alpha1.StandbyMode;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.restore.PlaceholderPods;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GpuRestore's state machine against the mock API server (CRUD), agents faked. */
@EnableKubernetesMockClient(crud = true)
class RestoreWorkflowTest {
  KubernetesClient client;
  private FakeAgents agents;
  private MutableClock clock;
  private Cluster cluster;
  private Reconcile<GpuRestore, GpuRestoreStatus> reconcile;

  @BeforeEach
  void setUp() {
    agents = new FakeAgents();
    agents.nodesWithAgent.add("gpu-1");
    clock = new MutableClock();
    cluster = new Cluster(client);
    var metrics = new OperatorMetrics(new SimpleMeterRegistry());
    var events = new EventRecorder(client, clock);
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
                    new TestConfig(),
                    clock)),
            clock);
    cluster.runningPod("llm-0", "gpu-1");
    cluster.checkpoint("ck", "llm-0");
    checkpoints.untilSettled("ck", 10);
    reconcile =
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
  }

  private Pod placeholder(String name) {
    return client.pods().inNamespace(Cluster.NS).withName(name).get();
  }

  @Test
  void placeholderIsCreatedFromTheSourcePodAndTheRestoreRunsInIt() {
    GpuRestore created = cluster.restore("r", "ck", null);
    GpuRestore cr = reconcile.once("r");
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Scheduling);
    assertThatConditions(cr.getStatus().conditions())
        .has(Accepted, True, "Validated")
        .has(PlaceholderReady, False, "PlaceholderPending");

    Pod pod = placeholder("r");
    var c = pod.getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("vllm/vllm-openai:v0.11");
    assertThat(c.getCommand()).containsExactly("/warmstart/pause");
    assertThat(c.getReadinessProbe()).isNull();
    assertThat(c.getResources().getLimits()).containsKey("nvidia.com/gpu");
    assertThat(pod.getSpec().getInitContainers())
        .singleElement()
        .satisfies(i -> assertThat(i.getImage()).isEqualTo("ghcr.io/warmstart/node-agent:test"));
    assertThat(pod.getSpec().getNodeName()).as("node-local image: pinned").isEqualTo("gpu-1");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("app", "llm")
        .containsEntry(PlaceholderPods.RESTORE_LABEL, "r");
    assertThat(pod.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(created.getMetadata().getUid()));

    cr = reconcile.once("r");
    assertThat(cr.getStatus().phase()).as("pod not running yet").isEqualTo(RestorePhase.Scheduling);
    cluster.markRunning(pod, "server", "containerd://placeholder-cid");
    cr = reconcile.once("r");
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Restoring);
    assertThatConditions(cr.getStatus().conditions())
        .has(PlaceholderReady, True, "PlaceholderRunning");
    var req = agents.submissions.get(agents.submissions.size() - 1);
    assertThat(req.kind()).isEqualTo(OperationKind.RESTORE);
    assertThat(req.restore().imageName()).isEqualTo("ml.ck");
    assertThat(req.restore().intoContainerId()).isEqualTo("placeholder-cid");
    assertThat(req.restore().expectedImageDigest())
        .as("the agent refuses an image that is not the checkpoint's")
        .isNotBlank()
        .isEqualTo(
            client
                .resources(GpuCheckpoint.class)
                .inNamespace(Cluster.NS)
                .withName("ck")
                .get()
                .getStatus()
                .artifact()
                .digest());

    cr = reconcile.untilSettled("r", 10);
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Running);
    assertThatConditions(cr.getStatus().conditions()).has(Ready, True, "Succeeded");
    assertThat(cr.getStatus().message()).contains("4242");
    assertThat(agents.operations(OperationKind.RESTORE)).isEqualTo(1);
  }

  @Test
  void missingUnfinishedOrFailedCheckpointsAndAWrongNode() {
    cluster.restore("r1", "nope", null);
    assertThatConditions(reconcile.once("r1").getStatus().conditions())
        .has(Accepted, False, "CheckpointNotFound");

    cluster.runningPod("llm-1", "gpu-1");
    cluster.checkpoint("ck-new", "llm-1");
    cluster.restore("r2", "ck-new", null);
    GpuRestore cr = reconcile.once("r2");
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Pending);
    assertThatConditions(cr.getStatus().conditions()).has(Accepted, Unknown, "CheckpointNotReady");

    GpuCheckpoint failed =
        client.resources(GpuCheckpoint.class).inNamespace(Cluster.NS).withName("ck-new").get();
    failed.setStatus(
        new GpuCheckpointStatus(
            CheckpointPhase.Failed, null, 1L, List.of(), null, null, null, 1, "boom"));
    client.resource(failed).updateStatus();
    assertThatConditions(reconcile.once("r2").getStatus().conditions())
        .has(Accepted, False, "CheckpointFailed");

    cluster.restore("r3", "ck", "gpu-9");
    cr = reconcile.once("r3");
    assertThatConditions(cr.getStatus().conditions()).has(Accepted, False, "NodeMismatch");
    assertThat(cr.getStatus().message()).contains("kept on node gpu-1 only");
    assertThat(placeholder("r3")).isNull();
  }

  @Test
  void unschedulableOrForeignPlaceholderFailsAndIsCleanedUp() {
    cluster.restore("r", "ck", null);
    reconcile.once("r");
    Pod pod = placeholder("r");
    cluster.markUnschedulable(pod, "0/1 nodes: Insufficient nvidia.com/gpu");
    GpuRestore cr = reconcile.once("r");
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Failed);
    assertThatConditions(cr.getStatus().conditions())
        .has(PlaceholderReady, False, "PlaceholderUnschedulable")
        .has(Ready, False, "PlaceholderUnschedulable");
    assertThat(cr.getStatus().message()).contains("Insufficient nvidia.com/gpu");
    assertThat(placeholder("r")).as("placeholder removed").isNull();

    cluster.runningPod("taken", "gpu-1");
    var spec = new GpuRestoreSpec("ck", "taken", null, null, null);
    GpuRestore foreign = new GpuRestore();
    foreign.setMetadata(new ObjectMetaBuilder().withName("r2").withNamespace(Cluster.NS).build());
    foreign.setSpec(spec);
    client.resource(foreign).create();
    assertThatConditions(reconcile.once("r2").getStatus().conditions())
        .has(Accepted, False, "PlaceholderFailed");
    assertThat(placeholder("taken")).as("a user's pod is never deleted").isNotNull();
  }

  @Test
  void agentFailuresFailTheRestoreAndRemoveThePlaceholder() {
    for (var c :
        List.of(
            new Object[] {ErrorReason.CriuFailed, "RestoreFailed"},
            new Object[] {ErrorReason.ImageIntegrityFailed, "ImageIntegrityFailed"},
            new Object[] {ErrorReason.IncompatibleGpu, "IncompatibleGpu"})) {
      String name = "r-" + c[1].toString().toLowerCase();
      cluster.restore(name, "ck", null);
      reconcile.once(name);
      cluster.markRunning(placeholder(name), "server", "containerd://" + name);
      agents.failWith = (ErrorReason) c[0];
      GpuRestore cr = reconcile.untilSettled(name, 10);
      assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Failed);
      assertThatConditions(cr.getStatus().conditions())
          .has(Ready, False, (String) c[1])
          .has(Progressing, False, (String) c[1]);
      assertThat(placeholder(name)).isNull();
    }
  }

  private GpuRestore standbyRestore(String name, StandbyMode mode) {
    GpuRestore r = new GpuRestore();
    r.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    r.setSpec(
        new GpuRestoreSpec(
            "ck", null, null, null, null, mode, null, new HttpHook(null, "/wake", 8000, 30)));
    client.resource(r).create();
    reconcile.once(name);
    cluster.markRunning(placeholder(name), "server", "containerd://" + name);
    return reconcile.untilSettled(name, 1);
  }

  private GpuRestore untilPhase(String name, RestorePhase phase) {
    GpuRestore cr = reconcile.get(name);
    for (int i = 0; i < 10 && cr.getStatus().phase() != phase; i++) {
      cr = reconcile.once(name);
    }
    return cr;
  }

  private void annotateActivate(String name) {
    GpuRestore cr = reconcile.get(name);
    cr.getMetadata().setAnnotations(Map.of("warmstart.dev/activate", "true"));
    client.resource(cr).update();
  }

  @Test
  void warmStandbyWaitsInItsPodUntilTheAnnotationThenActivatesOnce() {
    standbyRestore("w", StandbyMode.Warm);
    var req = agents.submissions.get(agents.submissions.size() - 1).restore();
    assertThat(req.stage()).isEqualTo(RestoreStage.PROCESSES);
    assertThat(req.postRestoreHook().path())
        .as("the post-restore hook goes to the agent")
        .isEqualTo("/wake");
    GpuRestore cr = untilPhase("w", RestorePhase.Standby);
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Standby);
    assertThatConditions(cr.getStatus().conditions()).has(Ready, False, "StandbyReady");
    int submitted = agents.submissions.size();
    for (int i = 0; i < 3; i++) {
      cr = reconcile.once("w");
    }
    assertThat(cr.getStatus().phase()).as("waits").isEqualTo(RestorePhase.Standby);
    assertThat(agents.submissions).as("no agent call while waiting").hasSize(submitted);

    annotateActivate("w");
    cr = reconcile.once("w");
    assertThatConditions(cr.getStatus().conditions()).has(Progressing, True, "Activating");
    cr = reconcile.untilSettled("w", 10);
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Running);
    assertThat(cr.getStatus().timings()).containsKey("activation");
    assertThat(agents.operations(OperationKind.ACTIVATE)).isEqualTo(1);
    String prepared = cr.getStatus().operationId();
    assertThat(
            agents.submissions.get(agents.submissions.size() - 1).activate().restoreOperationId())
        .isEqualTo(prepared);
  }

  @Test
  void hotStandbyAsksForLockedGpuMemoryAndADeadStandbyFailsClearly() {
    standbyRestore("h", StandbyMode.Hot);
    assertThat(agents.submissions.get(agents.submissions.size() - 1).restore().stage())
        .isEqualTo(RestoreStage.GPU_LOCKED);
    untilPhase("h", RestorePhase.Standby);
    agents.failWith = ErrorReason.ProcessNotFound; // the standby's process died meanwhile
    annotateActivate("h");
    GpuRestore cr = reconcile.untilSettled("h", 10);
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Failed);
    assertThatConditions(cr.getStatus().conditions()).has(Ready, False, "StandbyLost");
    assertThat(placeholder("h")).as("placeholder removed").isNull();
  }

  @Test
  void unreachableAgentIsRetriedThenGivenUp() {
    cluster.restore("r", "ck", null);
    reconcile.once("r");
    cluster.markRunning(placeholder("r"), "server", "containerd://x");
    agents.unreachable.add("gpu-1");
    GpuRestore cr = reconcile.once("r");
    assertThatConditions(cr.getStatus().conditions()).has(Progressing, Unknown, "AgentUnreachable");
    cr = reconcile.untilSettled("r", 10);
    assertThat(cr.getStatus().phase()).isEqualTo(RestorePhase.Failed);
    assertThatConditions(cr.getStatus().conditions()).has(Ready, False, "AgentUnreachable");
  }
}
