package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A checkpoint kept on a PersistentVolumeClaim is restored on the other node: the workload runs on
 * node 1 ({@link Cluster#NODE}), the agent there writes the image onto the claim through the
 * storage pod, and a GpuRestore pinned to node 2 ({@link Cluster#NODE2}) has node 2's agent import
 * it into node 2's own store (digests checked: a changed byte on the claim fails the restore with
 * ImageIntegrityFailed and leaves nothing behind) and restore it there, the workload's in-memory
 * state going on.
 *
 * <p>The PersistentVolume is a hostPath on a host directory outside the per-node binds of
 * scripts/local-cluster.sh, so both nodes reach the same files, as they would an NFS export:
 * ReadWriteMany is the mode that says so. (ReadWriteOnce across nodes is enforced only by the
 * attach/detach of attachable volumes, which no volume here has; PvcStorageIT covers ReadWriteOnce
 * on one node.) The two agent stores are separate directories: node 2's is {@link
 * Cluster#NODE2_DIR}/agent-images, bound at the chart's agent.storage.hostPath in node 2's mount
 * namespace.
 */
@ExtendWith(LocalCluster.class)
class CrossNodeRestoreIT {

  /** Node 1's store on the host (cluster-values.yaml: agent.storage.hostPath + images/). */
  private static final Path NODE1_STORE = Path.of("/var/lib/warmstart-cluster/agent-images/images");

  /** Node 2's store on the host: the same hostPath as node 2's agent sees it. */
  private static final Path NODE2_STORE = Cluster.NODE2_DIR.resolve("agent-images/images");

  @Test
  void aCheckpointOnAClaimRestoresOnTheOtherNodeFromItsOwnStore() throws Exception {
    Cluster cluster = LocalCluster.cluster();
    if (!cluster.hasNode2()) {
      String why = "the cluster has no node " + Cluster.NODE2 + " (a reused one-node cluster)";
      if ("required".equals(System.getenv("WARMSTART_CLUSTER_E2E"))) {
        throw new AssertionError(why);
      }
      System.out.println("[cluster-e2e] SKIPPED: " + why);
      assumeTrue(false, why);
    }
    String ns = cluster.namespace("e2e-xnode");
    Path claimDir = cluster.imagesClaim(ns, "ReadWriteMany");
    try {
      Cluster.ClaimCheckpoint claimed = cluster.checkpointCounterOnClaim(ns);
      assertThat(claimed.source().getSpec().getNodeName()).isEqualTo(Cluster.NODE);
      JsonNode before = claimed.before();
      JsonNode ck = claimed.checkpoint();
      String image = claimed.image();
      assertThat(ck.path("status").path("artifact").path("location").asText())
          .isEqualTo("pvc://images/shared/" + image);
      Path onClaim = claimDir.resolve("shared").resolve(image);
      assertThat(onClaim.resolve("manifest.json")).exists();
      assertThat(NODE1_STORE.resolve(image).resolve("manifest.json"))
          .as("node 1's agent checkpointed into its own store first")
          .exists();
      assertThat(NODE2_STORE.resolve(image))
          .as("node 2's store is its own: the image is not there before a restore on node 2")
          .doesNotExist();

      // A changed byte on the claim: node 2's agent refuses the copy and keeps nothing of it.
      Path largest = largestFile(onClaim);
      byte original = middleByte(largest);
      writeMiddleByte(largest, (byte) (original ^ 0xff));
      try {
        restoreOnNode2(cluster, ns, "counter-bad");
        JsonNode bad =
            cluster.awaitPhase(ns, "gpurestore", "counter-bad", Duration.ofMinutes(4), "Failed");
        assertThat(bad.path("status").toString())
            .as("the restore names the failed digest check")
            .contains("ImageIntegrityFailed");
        assertThat(NODE2_STORE.resolve(image)).as("nothing imported").doesNotExist();
      } finally {
        writeMiddleByte(largest, original);
      }

      restoreOnNode2(cluster, ns, "counter-r");
      JsonNode restore =
          cluster.awaitPhase(ns, "gpurestore", "counter-r", Duration.ofMinutes(4), "Running");
      assertThat(restore.path("status").path("nodeName").asText()).isEqualTo(Cluster.NODE2);
      assertThat(restore.path("status").path("timings").has("import"))
          .as("timings %s", restore.path("status").path("timings"))
          .isTrue();
      String podName = restore.path("status").path("podName").asText();
      Pod pod = cluster.client().pods().inNamespace(ns).withName(podName).get();
      assertThat(pod.getSpec().getNodeName()).isEqualTo(Cluster.NODE2);
      assertThat(NODE2_STORE.resolve(image).resolve("manifest.json"))
          .as("imported into node 2's store")
          .exists();
      JsonNode after = cluster.state(ns, podName);
      assertThat(after.path("ticks").asLong())
          .as("the counter goes on from the checkpoint, on node 2")
          .isGreaterThanOrEqualTo(before.path("ticks").asLong());
      assertThat(after.path("checksum").asText()).isEqualTo(before.path("checksum").asText());
    } finally {
      cluster.kubectlResult("delete", "namespace", ns, "--wait=false");
      cluster.deleteImagesClaim(ns);
    }
  }

  private static void restoreOnNode2(Cluster cluster, String ns, String name) {
    assertThat(
            cluster.apply(
                ns,
                """
                apiVersion: warmstart.dev/v1alpha1
                kind: GpuRestore
                metadata: {name: %s}
                spec: {checkpointName: counter-ck, nodeName: %s}
                """
                    .formatted(name, Cluster.NODE2)))
        .satisfies(r -> assertThat(r.rc()).as(r.err()).isZero());
  }

  /** The image's largest file as its manifest lists it (the memory pages). */
  private static Path largestFile(Path image) throws Exception {
    JsonNode files =
        new ObjectMapper().readTree(image.resolve("manifest.json").toFile()).path("files");
    JsonNode largest =
        StreamSupport.stream(files.spliterator(), false)
            .max(java.util.Comparator.comparingLong(f -> f.path("size").asLong()))
            .orElseThrow();
    assertThat(largest.path("size").asLong()).isPositive();
    return image.resolve(largest.path("path").asText());
  }

  /** The byte in the middle of the file. */
  private static byte middleByte(Path file) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      f.seek(f.length() / 2);
      return f.readByte();
    }
  }

  private static void writeMiddleByte(Path file, byte b) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(f.length() / 2);
      f.writeByte(b);
    }
  }
}
