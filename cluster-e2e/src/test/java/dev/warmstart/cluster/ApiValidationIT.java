package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input meets kube-apiserver itself: every invalid sample of api's CrdValidationTest is refused
 * by the real API server's schema and CEL evaluation, with the message that test expects (its first
 * line, {@code # expect: ...}); a spec change is refused.
 */
@ExtendWith(LocalCluster.class)
class ApiValidationIT {
  private static final Path INVALID = LocalCluster.REPO.resolve("api/src/test/resources/invalid");
  private static Cluster cluster;
  private static String ns;

  @BeforeAll
  static void namespace() {
    cluster = LocalCluster.cluster();
    ns = cluster.namespace("e2e-validation");
  }

  static Stream<Path> invalidSamples() throws IOException {
    return Files.list(INVALID).sorted();
  }

  @ParameterizedTest
  @MethodSource("invalidSamples")
  void theApiServerRejectsInvalidSamplesWithTheExpectedMessage(Path sample) throws IOException {
    List<String> lines = Files.readAllLines(sample);
    assertThat(lines.get(1)).startsWith("# apiserver: ");
    String expected = lines.get(1).substring("# apiserver: ".length());

    // --dry-run=server: admission and validation run in full, nothing is stored.
    Cluster.Result r =
        cluster.kubectlResult("-n", ns, "create", "--dry-run=server", "-f", sample.toString());
    assertThat(r.rc()).as("kubectl create %s: %s", sample.getFileName(), r.out()).isNotZero();
    assertThat(r.err())
        .as("the API server's message for %s", sample.getFileName())
        .contains(expected);
  }

  @Test
  void theSamplesUsersCopyAreAccepted() throws IOException {
    try (Stream<Path> samples = Files.list(LocalCluster.REPO.resolve("samples"))) {
      for (Path s :
          samples
              .filter(p -> p.getFileName().toString().startsWith("gpu"))
              .filter(p -> p.toString().endsWith(".yaml"))
              .toList()) {
        // In their own namespace (some name "default") or the default one.
        Cluster.Result r = cluster.kubectlResult("create", "--dry-run=server", "-f", s.toString());
        assertThat(r.rc()).as("%s: %s", s.getFileName(), r.err()).isZero();
      }
    }
  }

  @Test
  void aSpecChangeIsRefused() {
    assertThat(
            cluster
                .apply(
                    ns,
                    """
                    apiVersion: warmstart.dev/v1alpha1
                    kind: GpuCheckpoint
                    metadata: {name: immutable}
                    spec: {podName: web}
                    """)
                .rc())
        .isZero();
    Cluster.Result r =
        cluster.kubectlResult(
            "-n",
            ns,
            "patch",
            "gpucheckpoint",
            "immutable",
            "--type=merge",
            "-p",
            "{\"spec\":{\"podName\":\"other-pod\"}}");
    assertThat(r.rc()).isNotZero();
    assertThat(r.err()).contains("spec is immutable: create a new GpuCheckpoint instead");

    Cluster.Result status =
        cluster.kubectlResult(
            "-n",
            ns,
            "patch",
            "gpucheckpoint",
            "immutable",
            "--subresource=status",
            "--type=merge",
            "-p",
            "{\"status\":{\"phase\":\"Exploded\"}}");
    assertThat(status.rc()).isNotZero();
    assertThat(status.err()).contains("status.phase").contains("Unsupported value: \"Exploded\"");
  }
}
