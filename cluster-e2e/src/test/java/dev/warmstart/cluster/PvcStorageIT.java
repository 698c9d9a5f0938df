package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A checkpoint kept on a PersistentVolumeClaim (a hostPath PersistentVolume, ReadWriteOnce, bound
 * by the real controller manager): the agent writes the image onto the claim through the storage
 * pod, the node-local copy is then deleted, and a restore must read the image from the claim
 * (copied to the node and checked first). All on the first node (the placeholder is not pinned, and
 * the second node's taint keeps it off there); the restore on the other node, from that node's own
 * store, is CrossNodeRestoreIT.
 */
@ExtendWith(LocalCluster.class)
class PvcStorageIT {
  /** The PersistentVolume's directory on the node (under the cluster's state directory). */

  /**
   * The agent's store on the node (cluster-values.yaml: agent.storage.hostPath, the store in its
   * images/).
   */
  private static final Path AGENT_STORE = Path.of("/var/lib/warmstart-cluster/agent-images/images");

  @Test
  void checkpointOnAClaimRestoresFromTheClaimWhenTheNodeLostItsCopy() throws Exception {
    Cluster cluster = LocalCluster.cluster();
    String ns = cluster.namespace("e2e-pvc");
    Path claimDir = cluster.imagesClaim(ns, "ReadWriteOnce");
    try {
      Cluster.ClaimCheckpoint claimed = cluster.checkpointCounterOnClaim(ns);
      JsonNode before = claimed.before();
      JsonNode ck = claimed.checkpoint();
      String image = claimed.image();
      assertThat(ck.path("status").path("artifact").path("location").asText())
          .isEqualTo("pvc://images/shared/" + image);
      Cluster.await(
          Duration.ofSeconds(60),
          "the storage pod to go (the RWO claim is free again)",
          () -> cluster.client().pods().inNamespace(ns).withName("counter-ck-store").get() == null);

      Path onClaim = claimDir.resolve("shared").resolve(image);
      JsonNode manifest = new ObjectMapper().readTree(onClaim.resolve("manifest.json").toFile());
      assertThat(manifest.path("writableLayer").path("upperDir").asText())
          .as("the container's overlay upper directory was found and captured")
          .contains("snapshots");
      assertThat(onClaim.resolve("rootfs-diff.tar")).exists();

      Path local = AGENT_STORE.resolve(image);
      assertThat(local).as("the node-local copy").isDirectory();
      deleteTree(local); // the node lost its copy: the restore must read the claim

      assertThat(
              cluster.apply(
                  ns,
                  """
                  apiVersion: warmstart.dev/v1alpha1
                  kind: GpuRestore
                  metadata: {name: counter-r}
                  spec: {checkpointName: counter-ck}
                  """))
          .satisfies(r -> assertThat(r.rc()).as(r.err()).isZero());
      JsonNode restore =
          cluster.awaitPhase(ns, "gpurestore", "counter-r", Duration.ofMinutes(4), "Running");
      assertThat(restore.path("status").path("timings").has("import"))
          .as("timings %s", restore.path("status").path("timings"))
          .isTrue();
      Pod pod = cluster.client().pods().inNamespace(ns).withName("counter-r").get();
      assertThat(pod.getSpec().getVolumes())
          .anySatisfy(v -> assertThat(v.getName()).isEqualTo("warmstart-store"));
      JsonNode after = cluster.state(ns, "counter-r");
      assertThat(after.path("ticks").asLong())
          .as("the counter goes on from the checkpoint")
          .isGreaterThanOrEqualTo(before.path("ticks").asLong());
      assertThat(after.path("checksum").asText()).isEqualTo(before.path("checksum").asText());
      assertThat(local.resolve("manifest.json")).as("imported into the node's store").exists();
    } finally {
      cluster.kubectlResult("delete", "namespace", ns, "--wait=false");
      cluster.deleteImagesClaim(ns);
    }
  }

  private static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
