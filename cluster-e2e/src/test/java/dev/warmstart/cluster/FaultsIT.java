package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Pods of the product dying at the worst moment, on a real cluster: the agent pod deleted while it
 * restores (its DaemonSet brings it back), the operator pod deleted while a checkpoint runs (its
 * Deployment brings it back). A 256 MiB workload makes the operations last long enough to hit.
 */
@ExtendWith(LocalCluster.class)
class FaultsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static Cluster cluster;
  private static String ns;

  @BeforeAll
  static void workload() {
    cluster = LocalCluster.cluster();
    ns = cluster.namespace("e2e-faults");
  }

  @Test
  void operatorRestartedMidCheckpointRunsTheCheckpointOnce() throws Exception {
    startBigWorkload("big1");
    String uid =
        create(
            """
            apiVersion: warmstart.dev/v1alpha1
            kind: GpuCheckpoint
            metadata: {name: big1-ck}
            spec: {podName: big1, timeoutSeconds: 300}
            """,
            "gpucheckpoint",
            "big1-ck");
    Cluster.await(
        Duration.ofMinutes(1),
        "the checkpoint to be dispatched to the agent",
        () -> {
          JsonNode ck = cluster.get(ns, "gpucheckpoint", "big1-ck");
          return !ck.path("status").path("operationId").asText("").isEmpty();
        });
    Pod operator = cluster.operatorPod();
    cluster.kubectl(
        "-n", Cluster.SYSTEM_NS, "delete", "pod", operator.getMetadata().getName(), "--wait=false");

    JsonNode ck =
        cluster.awaitPhase(ns, "gpucheckpoint", "big1-ck", Duration.ofMinutes(4), "Succeeded");
    assertThat(cluster.operatorPod().getMetadata().getName())
        .as("a new operator pod finished the work")
        .isNotEqualTo(operator.getMetadata().getName());
    List<JsonNode> ops =
        checkpointOperationsOf(ck.path("status").path("operationId").asText(), uid);
    assertThat(ops).as("agent operations for this GpuCheckpoint").hasSize(1);
    assertThat(cluster.state(ns, "big1").path("ticks").asLong())
        .as("the source keeps running after its checkpoint")
        .isPositive();
  }

  @Test
  void agentDeletedMidRestoreEndsClearlyAndNeverLeavesTheWorkloadFrozen() throws Exception {
    startBigWorkload("big2");
    create(
        """
        apiVersion: warmstart.dev/v1alpha1
        kind: GpuCheckpoint
        metadata: {name: big2-ck}
        spec: {podName: big2, timeoutSeconds: 300}
        """,
        "gpucheckpoint",
        "big2-ck");
    cluster.awaitPhase(ns, "gpucheckpoint", "big2-ck", Duration.ofMinutes(4), "Succeeded");
    cluster.kubectl("-n", ns, "delete", "pod", "big2", "--wait=false");

    create(
        """
        apiVersion: warmstart.dev/v1alpha1
        kind: GpuRestore
        metadata: {name: big2-r}
        spec: {checkpointName: big2-ck}
        """,
        "gpurestore",
        "big2-r");
    Cluster.await(
        Duration.ofMinutes(2),
        "the restore to reach the agent",
        () -> {
          JsonNode r = cluster.get(ns, "gpurestore", "big2-r");
          return "Restoring".equals(Cluster.phase(r)) || "Running".equals(Cluster.phase(r));
        });
    Pod agent = cluster.agentPod();
    cluster.kubectl(
        "-n",
        Cluster.SYSTEM_NS,
        "delete",
        "pod",
        agent.getMetadata().getName(),
        "--grace-period=1",
        "--wait=false");

    Cluster.await(
        Duration.ofMinutes(5),
        "the restore to end (Running or Failed)",
        () -> {
          String p = Cluster.phase(cluster.get(ns, "gpurestore", "big2-r"));
          return "Running".equals(p) || "Failed".equals(p);
        });
    Cluster.await(
        Duration.ofMinutes(3),
        "the DaemonSet to bring a new agent",
        () -> {
          Pod a = cluster.agentPod();
          return a != null
              && !a.getMetadata().getName().equals(agent.getMetadata().getName())
              && Cluster.isReady(a);
        });
    JsonNode r = cluster.get(ns, "gpurestore", "big2-r");
    System.out.println("[cluster-e2e] restore after the agent's deletion: " + r.path("status"));
    if ("Running".equals(Cluster.phase(r))) {
      long c = cluster.state(ns, "big2-r").path("ticks").asLong();
      Cluster.await(
          Duration.ofSeconds(10),
          "the restored workload to count (not frozen)",
          () -> cluster.state(ns, "big2-r").path("ticks").asLong() > c);
    } else {
      JsonNode ready = condition(r.path("status"), "Ready");
      assertThat(ready.path("status").asText()).isEqualTo("False");
      assertThat(ready.path("reason").asText()).as("a reason a person can act on").isNotBlank();
      assertThat(r.path("status").path("message").asText()).isNotBlank();
      Pod placeholder = cluster.client().pods().inNamespace(ns).withName("big2-r").get();
      if (placeholder != null && "Running".equals(placeholder.getStatus().getPhase())) {
        // Whatever runs in a failed restore's pod must not be a frozen half-restored tree.
        Cluster.Result ps =
            cluster.kubectlResult(
                "-n", ns, "exec", "big2-r", "-c", "app", "--", "cat", "/proc/1/status");
        assertThat(ps.out()).doesNotContain("State:\tT");
      }
    }
  }

  private void startBigWorkload(String name) {
    cluster
        .client()
        .resource(
            new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(ns)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage(Cluster.WORKLOAD_IMAGE)
                .withImagePullPolicy("Never")
                .withArgs("--size-mib", "256")
                .endContainer()
                .withTerminationGracePeriodSeconds(2L)
                .endSpec()
                .build())
        .create();
    cluster
        .client()
        .pods()
        .inNamespace(ns)
        .withName(name)
        .waitUntilReady(2, java.util.concurrent.TimeUnit.MINUTES);
    Cluster.await(
        Duration.ofSeconds(90), name + " to serve /state", () -> stateOrNull(name) != null);
  }

  private JsonNode stateOrNull(String pod) {
    try {
      return cluster.state(ns, pod);
    } catch (IllegalStateException e) {
      return null;
    }
  }

  private String create(String yaml, String resource, String name) {
    Cluster.Result r = cluster.apply(ns, yaml);
    assertThat(r.rc()).as(r.err()).isZero();
    return cluster.get(ns, resource, name).path("metadata").path("uid").asText();
  }

  /** The agent's CHECKPOINT operations for one GpuCheckpoint, asked with the operator's token. */
  private List<JsonNode> checkpointOperationsOf(String operationId, String uid) throws Exception {
    String token =
        cluster
            .kubectl(
                "-n",
                Cluster.SYSTEM_NS,
                "exec",
                cluster.operatorPod().getMetadata().getName(),
                "--",
                "cat",
                "/var/run/secrets/warmstart/agent-token")
            .trim();
    HttpResponse<String> resp =
        cluster
            .agentHttps()
            .send(
                HttpRequest.newBuilder(cluster.agentUri("/v1/operations"))
                    .header("Authorization", "Bearer " + token)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
    List<JsonNode> mine = new ArrayList<>();
    for (JsonNode op : JSON.readTree(resp.body())) {
      boolean checkpoint = "CHECKPOINT".equalsIgnoreCase(op.path("kind").asText());
      String key = op.path("idempotencyKey").asText("");
      if (checkpoint && (op.path("id").asText().equals(operationId) || key.contains(uid))) {
        mine.add(op);
      }
    }
    return mine;
  }

  private static JsonNode condition(JsonNode status, String type) {
    for (JsonNode c : status.path("conditions")) {
      if (type.equals(c.path("type").asText())) {
        return c;
      }
    }
    throw new AssertionError("no condition " + type + " in " + status);
  }
}
