package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A GpuStandbyPool on a real cluster without a GPU: standbys are restored CPU processes kept frozen
 * in their pods; a GpuRestore naming the pool takes one (activation is the unlock) and the pool
 * makes a new one. Both tiers work for CPU-only workloads: with no GPU memory, Hot and Warm differ
 * only in what activation would copy back.
 */
@ExtendWith(LocalCluster.class)
class GpuStandbyPoolIT {
  private static Cluster cluster;
  private static String ns;

  /** The source's buffer checksum when it was checkpointed (nothing changes it afterwards). */
  private static String checksumBefore;

  @BeforeAll
  static void checkpoint() {
    cluster = LocalCluster.cluster();
    ns = cluster.namespace("e2e-pool");
    cluster.startWorkload(ns, "server");
    Cluster.await(
        Duration.ofSeconds(60),
        "the counter to pass 50",
        () -> cluster.state(ns, "server").path("ticks").asLong() > 50);
    checksumBefore = cluster.state(ns, "server").path("checksum").asText();
    assertThat(
            cluster
                .apply(
                    ns,
                    """
                    apiVersion: warmstart.dev/v1alpha1
                    kind: GpuCheckpoint
                    metadata: {name: server-ck}
                    spec: {podName: server}
                    """)
                .rc())
        .isZero();
    cluster.awaitPhase(ns, "gpucheckpoint", "server-ck", Duration.ofMinutes(3), "Succeeded");
  }

  @ParameterizedTest
  @ValueSource(strings = {"Warm", "Hot"})
  void aRestoreTakesAStandbyAndThePoolRefills(String tier) {
    String pool = "pool-" + tier.toLowerCase();
    assertThat(
            cluster
                .apply(
                    ns,
                    """
                    apiVersion: warmstart.dev/v1alpha1
                    kind: GpuStandbyPool
                    metadata: {name: %s}
                    spec: {checkpointName: server-ck, replicas: 2, tier: %s}
                    """
                        .formatted(pool, tier))
                .rc())
        .isZero();
    JsonNode filled = awaitReady(pool, 2);
    assertThat(filled.path("status").path("standbys")).hasSize(2);
    for (JsonNode s : filled.path("status").path("standbys")) {
      assertThat(s.path("nodeName").asText()).isEqualTo(Cluster.NODE);
      JsonNode restore = cluster.get(ns, "gpurestore", s.path("restoreName").asText());
      assertThat(Cluster.phase(restore)).isEqualTo("Standby");
    }

    String taker = "from-" + pool;
    assertThat(
            cluster
                .apply(
                    ns,
                    """
                    apiVersion: warmstart.dev/v1alpha1
                    kind: GpuRestore
                    metadata: {name: %s}
                    spec: {checkpointName: server-ck, poolName: %s}
                    """
                        .formatted(taker, pool))
                .rc())
        .isZero();
    JsonNode running =
        cluster.awaitPhase(ns, "gpurestore", taker, Duration.ofMinutes(2), "Running");
    String standby = running.path("status").path("standbyName").asText();
    assertThat(standby).as("the restore took a standby").isNotEmpty();
    String podName = running.path("status").path("podName").asText();
    JsonNode state = cluster.state(ns, podName);
    assertThat(state.path("checksum").asText()).isEqualTo(checksumBefore);
    long c = state.path("ticks").asLong();
    Cluster.await(
        Duration.ofSeconds(10),
        "the activated standby to count",
        () -> cluster.state(ns, podName).path("ticks").asLong() > c);

    JsonNode refilled = awaitReady(pool, 2);
    assertThat(refilled.path("status").path("standbys").findValuesAsText("restoreName"))
        .as("the taken standby left the pool and a new one replaced it")
        .doesNotContain(standby)
        .hasSize(2);
    cluster.kubectl("-n", ns, "delete", "gpustandbypool", pool, "--wait=false");
  }

  private JsonNode awaitReady(String pool, int ready) {
    JsonNode[] last = new JsonNode[1];
    Cluster.await(
        Duration.ofMinutes(4),
        "pool " + pool + " to have " + ready + " ready standbys",
        () -> {
          last[0] = cluster.get(ns, "gpustandbypool", pool);
          return last[0] != null && last[0].path("status").path("ready").asInt() == ready;
        });
    return last[0];
  }

  @Test
  void theWorkloadSourceKeepsRunningThroughout() {
    assertThat(cluster.state(ns, "server").path("ticks").asLong()).isPositive();
  }
}
