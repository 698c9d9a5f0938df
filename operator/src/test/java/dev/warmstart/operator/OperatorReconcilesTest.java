package dev.warmstart.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointTemplate;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleSpec;
import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.operator.support.Cluster;
import dev.warmstart.operator.support.FakeAgents;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The running operator (Quarkus + JOSDK) reconciles both CRs through the mock API server: events,
 * requeues and status writes as in production; only the agents are faked.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class OperatorReconcilesTest {
  @Inject KubernetesClient client;
  @Inject FakeAgentBean agents;

  private static void await(BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  @Test
  void checkpointAndRestoreReachTheirEndPhases() throws Exception {
    Cluster cluster = new Cluster(client);
    cluster.runningPod("op-llm", "gpu-1");
    cluster.checkpoint("op-ck", "op-llm");
    await(
        () -> {
          GpuCheckpoint c =
              client.resources(GpuCheckpoint.class).inNamespace(Cluster.NS).withName("op-ck").get();
          return c.getStatus() != null && c.getStatus().phase() == CheckpointPhase.Succeeded;
        },
        "GpuCheckpoint Succeeded");

    cluster.restore("op-r", "op-ck", null);
    await(
        () -> client.pods().inNamespace(Cluster.NS).withName("op-r").get() != null,
        "placeholder pod");
    Pod pod = client.pods().inNamespace(Cluster.NS).withName("op-r").get();
    cluster.markRunning(pod, "server", "containerd://op-r-cid");
    await(
        () -> {
          GpuRestore r =
              client.resources(GpuRestore.class).inNamespace(Cluster.NS).withName("op-r").get();
          return r.getStatus() != null && r.getStatus().phase() == RestorePhase.Running;
        },
        "GpuRestore Running");

    assertThat(client.v1().events().inNamespace(Cluster.NS).list().getItems())
        .extracting(e -> e.getReason())
        .contains(
            "CheckpointStarted", "CheckpointSucceeded", "PlaceholderCreated", "RestoreSucceeded");
    given()
        .get("/q/metrics")
        .then()
        .statusCode(200)
        .body(
            containsString("warmstart_operations_total{kind=\"checkpoint\",result=\"succeeded\"}"))
        .body(containsString("warmstart_operations_total{kind=\"restore\",result=\"succeeded\"}"))
        .body(containsString("warmstart_phase_duration_seconds_bucket{"))
        .body(containsString("warmstart_checkpoint_size_bytes_bucket{"));
  }

  @Test
  void anUnexpectedErrorBecomesAConditionAndAnEventAndTheReconcileIsRetried() throws Exception {
    Cluster cluster = new Cluster(client);
    cluster.runningPod("err-llm", "gpu-1");
    agents.fake().crashWith = new IllegalStateException("a bug in the operator");
    try {
      cluster.checkpoint("err-ck", "err-llm");
      await(
          () -> {
            GpuCheckpoint c = checkpoint("err-ck");
            return c.getStatus() != null
                && c.getStatus().conditions().stream()
                    .anyMatch(
                        x ->
                            x.type() == ConditionType.Progressing
                                && x.status() == ConditionStatus.Unknown
                                && "ReconcileError".equals(x.reason())
                                && x.message().contains("a bug in the operator"));
          },
          "a ReconcileError condition");
      await(
          () ->
              client.v1().events().inNamespace(Cluster.NS).list().getItems().stream()
                  .anyMatch(
                      e ->
                          "ReconcileError".equals(e.getReason())
                              && "err-ck".equals(e.getInvolvedObject().getName())
                              && "Warning".equals(e.getType())),
          "a ReconcileError event");
    } finally {
      agents.fake().crashWith = null;
    }
    await(
        () -> {
          GpuCheckpoint c = checkpoint("err-ck");
          return c.getStatus() != null && c.getStatus().phase() == CheckpointPhase.Succeeded;
        },
        "the retried reconcile to carry on");
  }

  /**
   * The placeholder pod through its JOSDK dependent resource in the running operator: created with
   * the restore as its owner, deleted when the restore fails, and a user's pod of the same name is
   * refused and never touched.
   */
  @Test
  void thePlaceholderDependentCreatesOwnsAndDeletesOnlyItsOwnPod() throws Exception {
    Cluster cluster = new Cluster(client);
    cluster.runningPod("dep-llm", "gpu-1");
    cluster.checkpoint("dep-ck", "dep-llm");
    await(
        () -> {
          GpuCheckpoint c = checkpoint("dep-ck");
          return c.getStatus() != null && c.getStatus().phase() == CheckpointPhase.Succeeded;
        },
        "GpuCheckpoint Succeeded");

    Pod users = cluster.runningPod("dep-users-pod", "gpu-1");
    GpuRestore foreign = new GpuRestore();
    foreign.setMetadata(
        new ObjectMetaBuilder().withName("dep-foreign").withNamespace(Cluster.NS).build());
    foreign.setSpec(new GpuRestoreSpec("dep-ck", "dep-users-pod", null, null, null));
    client.resource(foreign).create();
    await(() -> phase("dep-foreign") == RestorePhase.Failed, "the foreign-pod restore to fail");
    assertThat(restore("dep-foreign").getStatus().conditions())
        .anyMatch(
            c -> c.type() == ConditionType.Accepted && "PlaceholderFailed".equals(c.reason()));
    assertThat(client.pods().inNamespace(Cluster.NS).withName("dep-users-pod").get())
        .as("a user's pod is never deleted")
        .isNotNull()
        .satisfies(
            p -> assertThat(p.getMetadata().getUid()).isEqualTo(users.getMetadata().getUid()));

    GpuRestore r = cluster.restore("dep-r", "dep-ck", null);
    await(
        () -> client.pods().inNamespace(Cluster.NS).withName("dep-r").get() != null,
        "placeholder pod");
    Pod pod = client.pods().inNamespace(Cluster.NS).withName("dep-r").get();
    assertThat(pod.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(r.getMetadata().getUid()));
    cluster.markUnschedulable(pod, "0/1 nodes: Insufficient nvidia.com/gpu");
    await(() -> phase("dep-r") == RestorePhase.Failed, "the unschedulable restore to fail");
    await(
        () -> client.pods().inNamespace(Cluster.NS).withName("dep-r").get() == null,
        "its placeholder deleted");
  }

  private GpuRestore restore(String name) {
    return client.resources(GpuRestore.class).inNamespace(Cluster.NS).withName(name).get();
  }

  private RestorePhase phase(String restore) {
    GpuRestore r = restore(restore);
    return r == null || r.getStatus() == null ? null : r.getStatus().phase();
  }

  private GpuCheckpoint checkpoint(String name) {
    return client.resources(GpuCheckpoint.class).inNamespace(Cluster.NS).withName(name).get();
  }

  @Test
  void aScheduleKeepsItsNewestCheckpointsAndRetentionFreesTheirImagesOnTheNode() throws Exception {
    Cluster cluster = new Cluster(client);
    cluster.runningPod("sched-llm", "gpu-1");
    // Three earlier runs of the schedule, captured for real by the GpuCheckpoint reconciler.
    for (int day = 1; day <= 3; day++) {
      GpuCheckpoint ck = new GpuCheckpoint();
      ck.setMetadata(
          new ObjectMetaBuilder()
              .withName("nightly-" + day)
              .withNamespace(Cluster.NS)
              .withLabels(Map.of(GpuCheckpointSchedule.SCHEDULE_LABEL, "nightly"))
              .withAnnotations(
                  Map.of(
                      GpuCheckpointSchedule.SCHEDULED_AT_ANNOTATION,
                      "2026-11-0" + day + "T00:00:00Z"))
              .build());
      ck.setSpec(new GpuCheckpointSpec("sched-llm", null, null, null, null, null));
      client.resource(ck).create();
    }
    await(
        () ->
            client.resources(GpuCheckpoint.class).inNamespace(Cluster.NS).list().getItems().stream()
                    .filter(c -> c.getMetadata().getName().startsWith("nightly-"))
                    .filter(c -> c.getStatus() != null)
                    .filter(c -> c.getStatus().phase() == CheckpointPhase.Succeeded)
                    .count()
                == 3,
        "three Succeeded checkpoints");

    GpuCheckpointSchedule schedule = new GpuCheckpointSchedule();
    schedule.setMetadata(
        new ObjectMetaBuilder().withName("nightly").withNamespace(Cluster.NS).build());
    schedule.setSpec(
        new GpuCheckpointScheduleSpec(
            "@yearly",
            "Europe/Berlin",
            null,
            null,
            null,
            1,
            0,
            new CheckpointTemplate("sched-llm", null, null, null, null, null, null)));
    client.resource(schedule).create();

    await(
        () ->
            client
                    .resources(GpuCheckpoint.class)
                    .inNamespace(Cluster.NS)
                    .withLabel(GpuCheckpointSchedule.SCHEDULE_LABEL, "nightly")
                    .list()
                    .getItems()
                    .size()
                == 1,
        "retention to delete all but the newest");
    assertThat(
            client
                .resources(GpuCheckpoint.class)
                .inNamespace(Cluster.NS)
                .withName("nightly-3")
                .get())
        .isNotNull();
    await(() -> deletedImages().size() == 2, "the agent to delete two images");
    assertThat(deletedImages()).containsExactlyInAnyOrder("ml.nightly-1", "ml.nightly-2");
    GpuCheckpointSchedule s =
        client
            .resources(GpuCheckpointSchedule.class)
            .inNamespace(Cluster.NS)
            .withName("nightly")
            .get();
    assertThat(s.getStatus().lastSuccessfulCheckpoint()).isEqualTo("nightly-3");
    // Midnight of January 1st in Berlin is 23:00 UTC on December 31st.
    assertThat(s.getStatus().nextScheduleTime()).endsWith("-12-31T23:00:00Z");
  }

  private List<String> deletedImages() {
    FakeAgents fake = agents.fake();
    synchronized (fake) {
      return fake.submissions.stream()
          .filter(r -> r.kind() == OperationKind.DELETE_IMAGE)
          .map(OperationRequest::deleteImageName)
          .distinct()
          .toList();
    }
  }
}
