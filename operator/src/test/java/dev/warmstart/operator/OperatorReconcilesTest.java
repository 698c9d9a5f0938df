package dev.warmstart.operator;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.operator.support.Cluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
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
        .body(containsString("warmstart_operations_total{kind=\"restore\",result=\"succeeded\"}"));
  }
}
