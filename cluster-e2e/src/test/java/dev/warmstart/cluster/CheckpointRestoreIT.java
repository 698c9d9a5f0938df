package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pod holding state only in memory, checkpointed and restored through the custom resources on a
 * real cluster, seen the way a user sees it (kubectl get, kubectl describe).
 */
@ExtendWith(LocalCluster.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CheckpointRestoreIT {
  private static Cluster cluster;
  private static String ns;

  /** The workload's clock right before the checkpoint: a restarted process would start at 0. */
  private static long counterBefore;

  /** The checksum of its random buffer then: a restarted process fills another one. */
  private static String checksumBefore;

  @BeforeAll
  static void workload() {
    cluster = LocalCluster.cluster();
    ns = cluster.namespace("e2e-ckpt");
    cluster.startWorkload(ns, "counter");
    // Let the counter run well past what a fresh process reaches during a restore.
    Cluster.await(
        Duration.ofSeconds(60),
        "the counter to pass 100",
        () -> cluster.state(ns, "counter").path("ticks").asLong() > 100);
  }

  @Test
  @Order(1)
  void checkpointSucceedsAndShowsInKubectl() {
    JsonNode before = cluster.state(ns, "counter");
    counterBefore = before.path("ticks").asLong();
    checksumBefore = before.path("checksum").asText();
    assertThat(
            cluster.apply(
                ns,
                """
                apiVersion: warmstart.dev/v1alpha1
                kind: GpuCheckpoint
                metadata: {name: counter-ck}
                spec: {podName: counter, timeoutSeconds: 120}
                """))
        .satisfies(r -> assertThat(r.rc()).as(r.err()).isZero());

    JsonNode ck =
        cluster.awaitPhase(ns, "gpucheckpoint", "counter-ck", Duration.ofMinutes(3), "Succeeded");
    JsonNode status = ck.path("status");
    assertThat(status.path("nodeName").asText()).isEqualTo(Cluster.NODE);
    assertThat(status.path("artifact").path("sizeBytes").asLong()).isPositive();
    assertThat(status.path("artifact").path("containerName").asText()).isEqualTo("app");
    assertThat(conditions(status))
        .contains("Accepted=True", "Ready=True")
        .anyMatch(c -> c.startsWith("Progressing=False"));

    // The printer columns, as `kubectl get` shows them.
    String table = cluster.kubectl("-n", ns, "get", "gpucheckpoint", "counter-ck");
    assertThat(table.lines().findFirst().orElseThrow())
        .containsSubsequence(
            "NAME", "AGE", "WORKLOAD", "GPU", "SIZE-BYTES", "RESTORABLE", "NODE", "PHASE");
    assertThat(table)
        .as("a CPU-only checkpoint: an empty GPU cell, its size, restorable, where and how it went")
        .containsPattern(
            "counter-ck\\s+\\S+\\s+counter\\s+\\d+\\s+True\\s+" + Cluster.NODE + "\\s+Succeeded");
    assertThat(cluster.kubectl("get", "warmstart", "-n", ns))
        .as("kubectl get warmstart lists every kind of the category")
        .contains("gpucheckpoint.warmstart.dev/counter-ck");

    String described = cluster.kubectl("-n", ns, "describe", "gpucheckpoint", "counter-ck");
    assertThat(described)
        .contains("Phase:", "Succeeded", "Artifact:")
        .contains("CheckpointStarted", "CheckpointSucceeded");
  }

  @Test
  @Order(2)
  void restoreContinuesTheStateInAPlaceholderPod() {
    JsonNode restore = restore("counter-r1");
    assertThat(restore.path("status").path("podName").asText()).isEqualTo("counter-r1");
    assertThat(conditions(restore.path("status")))
        .contains("Accepted=True", "PlaceholderReady=True", "Ready=True");

    Pod pod = cluster.client().pods().inNamespace(ns).withName("counter-r1").get();
    assertThat(pod.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("GpuRestore"));
    assertThat(pod.getSpec().getContainers().get(0).getCommand())
        .containsExactly("/warmstart/pause");
    assertThat(pod.getStatus().getPhase()).isEqualTo("Running");

    JsonNode state = cluster.state(ns, "counter-r1");
    assertThat(state.path("ticks").asLong())
        .as("the counter goes on from the checkpoint (a fresh process starts at 0)")
        .isGreaterThanOrEqualTo(counterBefore);
    assertThat(state.path("checksum").asText())
        .as("the random 64 MiB buffer came back intact (a fresh process fills another)")
        .isEqualTo(checksumBefore);
    long later = state.path("ticks").asLong();
    Cluster.await(
        Duration.ofSeconds(10),
        "the restored counter to keep counting",
        () -> cluster.state(ns, "counter-r1").path("ticks").asLong() > later);
    assertThat(cluster.kubectl("-n", ns, "describe", "gpurestore", "counter-r1"))
        .contains("PlaceholderCreated", "RestoreSucceeded");
  }

  @Test
  @Order(3)
  void aSecondRestoreFromTheSameCheckpoint() {
    restore("counter-r2");
    JsonNode state = cluster.state(ns, "counter-r2");
    assertThat(state.path("ticks").asLong()).isGreaterThanOrEqualTo(counterBefore);
    assertThat(state.path("checksum").asText()).isEqualTo(checksumBefore);
    // Both copies run side by side, each with its own counter.
    assertThat(cluster.state(ns, "counter-r1").path("ticks").asLong()).isPositive();
  }

  private JsonNode restore(String name) {
    assertThat(
            cluster.apply(
                ns,
                """
                apiVersion: warmstart.dev/v1alpha1
                kind: GpuRestore
                metadata: {name: %s}
                spec: {checkpointName: counter-ck}
                """
                    .formatted(name)))
        .satisfies(r -> assertThat(r.rc()).as(r.err()).isZero());
    return cluster.awaitPhase(ns, "gpurestore", name, Duration.ofMinutes(3), "Running");
  }

  /** "Type=Status" of each condition. */
  static List<String> conditions(JsonNode status) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode c : status.path("conditions")) {
      out.add(c.path("type").asText() + "=" + c.path("status").asText());
    }
    return out;
  }
}
