package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A GpuCheckpointSchedule on a real cluster: a run every minute keeps the workload's checkpoint
 * fresh, and retention (the last one kept) deletes the older GpuCheckpoint and, through the agent,
 * its image on the node.
 */
@ExtendWith(LocalCluster.class)
class ScheduleIT {
  private static final String LABEL = "warmstart.dev/schedule";

  @Test
  void aScheduleMakesCheckpointsAndRetentionDeletesTheOlderImageOnTheNode() {
    Cluster cluster = LocalCluster.cluster();
    String ns = cluster.namespace("e2e-schedule");
    cluster.startWorkload(ns, "ticker");
    assertThat(
            cluster.apply(
                ns,
                """
                apiVersion: warmstart.dev/v1alpha1
                kind: GpuCheckpointSchedule
                metadata: {name: every-minute}
                spec:
                  schedule: "* * * * *"
                  successfulCheckpointsHistoryLimit: 1
                  checkpointTemplate: {podName: ticker, timeoutSeconds: 120}
                """))
        .satisfies(r -> assertThat(r.rc()).as(r.err()).isZero());

    // Every checkpoint the schedule made that succeeded, in the order seen, with its image path.
    Map<String, String> succeeded = new LinkedHashMap<>();
    Cluster.await(
        Duration.ofMinutes(4),
        "two scheduled checkpoints to succeed",
        () -> {
          for (JsonNode ck : checkpoints(cluster, ns)) {
            if ("Succeeded".equals(Cluster.phase(ck))) {
              succeeded.putIfAbsent(
                  ck.path("metadata").path("name").asText(),
                  ck.path("status").path("artifact").path("path").asText());
            }
          }
          return succeeded.size() >= 2;
        });
    List<String> names = new ArrayList<>(succeeded.keySet());
    String oldest = names.get(0);
    String newest = names.get(names.size() - 1);
    assertThat(succeeded.get(oldest)).startsWith("/var/lib/warmstart/images/");

    Cluster.await(
        Duration.ofMinutes(2),
        "retention to delete " + oldest,
        () -> cluster.get(ns, "gpucheckpoint", oldest) == null);
    assertThat(cluster.get(ns, "gpucheckpoint", newest))
        .as("the newest good checkpoint is kept")
        .isNotNull();
    String agent = cluster.agentPod().getMetadata().getName();
    Cluster.await(
        Duration.ofSeconds(60),
        "the deleted checkpoint's image to leave the node",
        () ->
            cluster
                    .kubectlResult(
                        "-n", Cluster.SYSTEM_NS, "exec", agent, "--", "ls", succeeded.get(oldest))
                    .rc()
                != 0);
    assertThat(
            cluster
                .kubectlResult(
                    "-n", Cluster.SYSTEM_NS, "exec", agent, "--", "ls", succeeded.get(newest))
                .rc())
        .as("the kept checkpoint's image is still on the node")
        .isZero();
    JsonNode schedule = cluster.get(ns, "gpucheckpointschedule", "every-minute");
    assertThat(schedule.path("status").path("lastSuccessfulCheckpoint").asText()).isNotEmpty();
    cluster.kubectl("-n", ns, "delete", "gpucheckpointschedule", "every-minute", "--wait=false");
  }

  /** The schedule's checkpoints, oldest first (their names end in the minute of their run). */
  private static List<JsonNode> checkpoints(Cluster cluster, String ns) {
    List<JsonNode> out = new ArrayList<>(cluster.list(ns, "gpucheckpoints", LABEL));
    out.sort(Comparator.comparing(c -> c.path("metadata").path("name").asText()));
    return out;
  }
}
