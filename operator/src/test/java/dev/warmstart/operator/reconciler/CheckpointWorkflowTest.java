package dev.warmstart.operator.reconciler;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;
import static dev.warmstart.operator.support.ConditionAssert.assertThatConditions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.checkpoint.GpuCheckpointCleanup;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.support.Cluster;
import dev.warmstart.operator.support.FakeAgents;
import dev.warmstart.operator.support.LiveCheckpointWorld;
import dev.warmstart.operator.support.MutableClock;
import dev.warmstart.operator.support.Reconcile;
import dev.warmstart.operator.support.TestConfig;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** GpuCheckpoint's state machine against the mock API server (CRUD), agents faked. */
@EnableKubernetesMockClient(crud = true)
class CheckpointWorkflowTest {
  KubernetesClient client;
  private FakeAgents agents;
  private MutableClock clock;
  private SimpleMeterRegistry registry;
  private Cluster cluster;
  private Reconcile<GpuCheckpoint, GpuCheckpointStatus> reconcile;

  @BeforeEach
  void setUp() {
    agents = new FakeAgents();
    agents.nodesWithAgent.add("gpu-1");
    clock = new MutableClock();
    registry = new SimpleMeterRegistry();
    cluster = new Cluster(client);
    reconcile =
        new Reconcile<>(
            client, GpuCheckpoint.class, LiveCheckpointWorld.steps(client, workflow()), clock);
  }

  private CheckpointWorkflow workflow() {
    return new CheckpointWorkflow(
        client,
        agents,
        new CheckpointStatusFactory(clock),
        new EventRecorder(client, clock),
        new OperatorMetrics(registry),
        new TestConfig(),
        clock);
  }

  private List<String> events(String name) {
    return client.v1().events().inNamespace(Cluster.NS).list().getItems().stream()
        .filter(e -> e.getInvolvedObject().getName().equals(name))
        .map(Event::getReason)
        .toList();
  }

  @Test
  void runningPodIsCheckpointedOnceAndTheArtifactRecorded() {
    cluster.runningPod("llm-0", "gpu-1");
    cluster.checkpoint("ck", "llm-0");
    agents.pollsToFinish = 3;

    GpuCheckpoint cr = reconcile.once("ck");
    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Checkpointing);
    assertThat(cr.getStatus().nodeName()).isEqualTo("gpu-1");
    assertThatConditions(cr.getStatus().conditions())
        .has(Accepted, True, "Validated")
        .has(Progressing, True, "Dispatched");
    assertThat(agents.submissions.get(0).checkpoint().target().containerId())
        .isEqualTo("llm-0-cid");
    assertThat(agents.submissions.get(0).checkpoint().imageName()).isEqualTo("ml.ck");

    cr = reconcile.once("ck");
    assertThatConditions(cr.getStatus().conditions()).has(Progressing, True, "InProgress");
    assertThat(cr.getStatus().message()).endsWith(": dump");

    cr = reconcile.untilSettled("ck", 10);
    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Succeeded);
    assertThatConditions(cr.getStatus().conditions())
        .has(Ready, True, "Succeeded")
        .has(Progressing, False, "Succeeded");
    var artifact = cr.getStatus().artifact();
    assertThat(artifact.location()).startsWith("hostpath://gpu-1/");
    assertThat(artifact.digest()).startsWith("sha256:");
    assertThat(artifact.containerName()).isEqualTo("server");
    assertThat(artifact.sourcePodTemplate().getMetadata().getLabels())
        .containsEntry("app", "llm")
        .doesNotContainKey("pod-template-hash");
    assertThat(artifact.sourcePodTemplate().getSpec().getNodeName()).isNull();
    assertThat(cr.getStatus().timings()).containsEntry("dump", 100L);
    assertThat(agents.operations(OperationKind.CHECKPOINT)).isEqualTo(1);
    assertThat(events("ck")).containsExactly("CheckpointStarted", "CheckpointSucceeded");
    assertThat(
            registry
                .counter("warmstart.operations", "kind", "checkpoint", "result", "succeeded")
                .count())
        .isEqualTo(1.0);
    assertThat(registry.find("warmstart.checkpoint.size").summary().totalAmount())
        .isEqualTo(1 << 20);
  }

  @Test
  void duplicateEventsAndAnOperatorRestartNeverStartASecondCheckpoint() {
    cluster.runningPod("llm-0", "gpu-1");
    cluster.checkpoint("ck", "llm-0");
    agents.pollsToFinish = 5;
    GpuCheckpoint stale = reconcile.get("ck"); // an event delivered twice: same state seen twice
    workflow().step(stale, new LiveCheckpointWorld(client));
    reconcile.once("ck");
    // The operator restarts: a new workflow instance picks up from the stored status.
    reconcile =
        new Reconcile<>(
            client, GpuCheckpoint.class, LiveCheckpointWorld.steps(client, workflow()), clock);
    GpuCheckpoint cr = reconcile.untilSettled("ck", 20);

    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Succeeded);
    assertThat(agents.submissions)
        .hasSize(2)
        .extracting(r -> r.idempotencyKey())
        .containsOnly("gck-" + cr.getMetadata().getUid());
    assertThat(agents.operations(OperationKind.CHECKPOINT)).as("one capture").isEqualTo(1);
  }

  @Test
  void missingPodIsRejected() {
    cluster.checkpoint("ck", "nope");
    GpuCheckpoint cr = reconcile.untilSettled("ck", 3);
    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Failed);
    assertThatConditions(cr.getStatus().conditions())
        .has(Accepted, False, "PodNotFound")
        .has(Ready, False, "PodNotFound");
    assertThat(agents.submissions).isEmpty();
    assertThat(events("ck")).containsExactly("CheckpointRejected");
  }

  @Test
  void pendingPodIsWaitedForAndAnEndedPodRejected() {
    Pod pod = cluster.runningPod("llm-0", "gpu-1");
    pod.getStatus().setPhase("Pending");
    client.resource(pod).updateStatus();
    cluster.checkpoint("ck", "llm-0");
    GpuCheckpoint cr = reconcile.once("ck");
    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Pending);
    assertThatConditions(cr.getStatus().conditions()).has(Accepted, Unknown, "PodNotRunning");

    pod = client.pods().inNamespace(Cluster.NS).withName("llm-0").get();
    pod.getStatus().setPhase("Failed");
    client.resource(pod).updateStatus();
    cr = reconcile.once("ck");
    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Failed);
    assertThatConditions(cr.getStatus().conditions()).has(Accepted, False, "PodNotRunning");
  }

  @Test
  void ambiguousContainerAndMpsClientsAreRejected() {
    Pod pod = cluster.runningPod("two", "gpu-1");
    pod.getSpec().getContainers().get(0).getResources().setLimits(null);
    pod.getSpec()
        .getContainers()
        .add(new ContainerBuilder().withName("sidecar").withImage("envoy").build());
    client.resource(pod).update();
    cluster.checkpoint("ck-two", "two");
    GpuCheckpoint cr = reconcile.once("ck-two");
    assertThatConditions(cr.getStatus().conditions()).has(Accepted, False, "ContainerNotFound");
    assertThat(cr.getStatus().message()).contains("set spec.containerName");

    Pod mps = cluster.runningPod("mps", "gpu-1");
    mps.getSpec()
        .getContainers()
        .get(0)
        .setEnv(List.of(new EnvVar("CUDA_MPS_PIPE_DIRECTORY", "/tmp/mps", null)));
    client.resource(mps).update();
    cluster.checkpoint("ck-mps", "mps");
    cr = reconcile.once("ck-mps");
    assertThatConditions(cr.getStatus().conditions()).has(Accepted, False, "UnsupportedWorkload");
    assertThat(agents.submissions).isEmpty();
  }

  @Test
  void missingOrUnreachableAgentIsRetriedWithBackoffThenGivenUp() {
    cluster.runningPod("llm-0", "gpu-2"); // no agent there
    cluster.checkpoint("ck", "llm-0");
    GpuCheckpoint cr = reconcile.once("ck");
    assertThatConditions(cr.getStatus().conditions()).has(Progressing, Unknown, "NoAgentOnNode");
    assertThat(cr.getStatus().attempts()).isEqualTo(1);
    cr = reconcile.untilSettled("ck", 10);
    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Failed);
    assertThatConditions(cr.getStatus().conditions()).has(Ready, False, "NoAgentOnNode");
    assertThat(cr.getStatus().message()).contains("gave up after 3 attempts");

    cluster.runningPod("llm-1", "gpu-1");
    cluster.checkpoint("ck2", "llm-1");
    agents.unreachable.add("gpu-1");
    cr = reconcile.once("ck2");
    assertThatConditions(cr.getStatus().conditions()).has(Progressing, Unknown, "AgentUnreachable");
    agents.unreachable.clear();
    cr = reconcile.untilSettled("ck2", 10);
    assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Succeeded);
  }

  @Test
  void agentFailuresBecomeConditionReasons() {
    for (var c :
        List.of(
            new Object[] {ErrorReason.CriuFailed, "CheckpointFailed"},
            new Object[] {ErrorReason.HookFailed, "HookFailed"},
            new Object[] {ErrorReason.UnsupportedWorkload, "UnsupportedWorkload"},
            new Object[] {ErrorReason.Timeout, "Timeout"})) {
      String name = "ck-" + c[1].toString().toLowerCase();
      cluster.runningPod("p-" + name, "gpu-1");
      cluster.checkpoint(name, "p-" + name);
      agents.failWith = (ErrorReason) c[0];
      GpuCheckpoint cr = reconcile.untilSettled(name, 10);
      assertThat(cr.getStatus().phase()).isEqualTo(CheckpointPhase.Failed);
      assertThatConditions(cr.getStatus().conditions()).has(Ready, False, (String) c[1]);
      assertThat(cr.getStatus().message()).contains("injected");
    }
  }

  @Test
  void lostOperationAndOverdueCheckpointFail() {
    cluster.runningPod("llm-0", "gpu-1");
    cluster.checkpoint("ck", "llm-0");
    reconcile.once("ck");
    agents.forgetOperations = true;
    GpuCheckpoint cr = reconcile.once("ck");
    assertThatConditions(cr.getStatus().conditions()).has(Ready, False, "OperationLost");

    agents.forgetOperations = false;
    agents.pollsToFinish = 1_000;
    cluster.runningPod("llm-1", "gpu-1");
    cluster.checkpoint("slow", "llm-1");
    reconcile.once("slow");
    clock.advance(Duration.ofSeconds(600 + 121));
    cr = reconcile.once("slow");
    assertThatConditions(cr.getStatus().conditions()).has(Ready, False, "Timeout");
  }

  @Test
  void deletionWaitsForTheCaptureThenDeletesTheImage() {
    cluster.runningPod("llm-0", "gpu-1");
    cluster.checkpoint("ck", "llm-0");
    agents.pollsToFinish = 3;
    GpuCheckpoint cr = reconcile.once("ck");
    var cleanup =
        new GpuCheckpointCleanup(
            agents,
            new EventRecorder(client, clock),
            new OperatorMetrics(new SimpleMeterRegistry()),
            new TestConfig(),
            clock);

    assertThat(cleanup.cleanup(cr)).as("capture in flight: keep the finalizer").isPresent();
    assertThat(agents.operations(OperationKind.DELETE_IMAGE)).isZero();
    cr = reconcile.untilSettled("ck", 10);
    assertThat(cleanup.cleanup(cr)).as("deletion submitted, still running").isPresent();
    assertThat(cleanup.cleanup(cr)).isPresent();
    assertThat(cleanup.cleanup(cr)).as("image deleted: finalizer may go").isEmpty();
    assertThat(agents.operations(OperationKind.DELETE_IMAGE)).as("one deletion").isEqualTo(1);
    assertThat(agents.submissions)
        .last()
        .satisfies(
            r -> {
              assertThat(r.kind()).isEqualTo(OperationKind.DELETE_IMAGE);
              assertThat(r.deleteImageName()).isEqualTo("ml.ck");
            });
    assertThat(events("ck")).contains("ArtifactDeleted");
  }

  @Test
  void aDeletionWhoseAgentStaysUnreachableGivesUpAfterTheAttemptsAndLeavesTheImage() {
    cluster.runningPod("llm-0", "gpu-1");
    cluster.checkpoint("ck", "llm-0");
    agents.pollsToFinish = 1;
    reconcile.once("ck");
    GpuCheckpoint cr = reconcile.untilSettled("ck", 10);
    var cleanup =
        new GpuCheckpointCleanup(
            agents,
            new EventRecorder(client, clock),
            new OperatorMetrics(new SimpleMeterRegistry()),
            new TestConfig(3),
            clock);
    agents.unreachable.add("gpu-1");

    assertThat(cleanup.cleanup(cr)).as("attempt 1: retried").isPresent();
    assertThat(cleanup.cleanup(cr)).as("attempt 2: retried").isPresent();
    assertThat(cleanup.cleanup(cr)).as("attempt 3 of 3: the finalizer may go").isEmpty();
    assertThat(events("ck")).contains("ArtifactRetained");
    assertThat(agents.operations(OperationKind.DELETE_IMAGE)).as("never reached").isZero();
  }

  @Test
  void fiftyCheckpointsAtOnceAllConverge() {
    agents.pollsToFinish = 2;
    IntStream.range(0, 50)
        .forEach(
            i -> {
              cluster.runningPod("p" + i, "gpu-1");
              cluster.checkpoint("c" + i, "p" + i);
            });
    for (int round = 0; round < 6; round++) {
      IntStream.range(0, 50).forEach(i -> reconcile.once("c" + i));
    }
    assertThat(client.resources(GpuCheckpoint.class).inNamespace(Cluster.NS).list().getItems())
        .hasSize(50)
        .allSatisfy(c -> assertThat(c.getStatus().phase()).isEqualTo(CheckpointPhase.Succeeded));
    assertThat(agents.operations(OperationKind.CHECKPOINT)).isEqualTo(50);
  }
}
