package dev.warmstart.cluster;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real cluster every IT of this module shares: brought up once by scripts/local-cluster.sh (or
 * reused when one already runs), images built and imported, the chart installed with Helm; torn
 * down after the last test class (JUnit closes the root store's resources at the very end).
 *
 * <p>Where the prerequisites are missing the tests are skipped, and the reason is printed to the
 * console; with {@code WARMSTART_CLUSTER_E2E=required} (CI) a missing prerequisite fails instead.
 */
public final class LocalCluster implements BeforeAllCallback {
  static final Path REPO =
      Path.of(System.getProperty("warmstart.repo.root", "..")).toAbsolutePath().normalize();
  private static final String KEY = LocalCluster.class.getName();
  private static volatile Cluster current;

  @Override
  public void beforeAll(ExtensionContext context) {
    Cluster cluster =
        context
            .getRoot()
            .getStore(ExtensionContext.Namespace.GLOBAL)
            .getOrComputeIfAbsent(KEY, k -> Cluster.start(), Cluster.class);
    if (cluster.skipReason() != null) {
      System.out.println("[cluster-e2e] SKIPPED: " + cluster.skipReason());
    }
    assumeTrue(cluster.skipReason() == null, cluster.skipReason());
    current = cluster;
  }

  /** The cluster of this test run; valid inside test classes extended with LocalCluster. */
  public static Cluster cluster() {
    return current;
  }

  /** Why this machine cannot run the suite, or null. */
  static String missingPrerequisites() {
    if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
      return "not Linux";
    }
    if (!"root".equals(System.getProperty("user.name"))) {
      return "not root (the cluster needs network namespaces, cgroups and containers)";
    }
    List<String> missing = new ArrayList<>();
    for (String tool :
        List.of(
            "runc",
            "podman",
            "debootstrap",
            "curl",
            "ip",
            "nsenter",
            "unshare",
            "iptables",
            "openssl",
            "gcc",
            "make",
            "jlink")) {
      if (!onPath(tool)) {
        missing.add(tool);
      }
    }
    return missing.isEmpty()
        ? null
        : "missing on PATH: "
            + String.join(", ", missing)
            + " (.ci/run installs them on Debian: see README, 'On a fresh machine')";
  }

  private static boolean onPath(String tool) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
  }

  /** Runs a command in the repository, output to the console; throws unless it exits 0. */
  static void run(List<String> command, java.util.Map<String, String> env) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).directory(REPO.toFile()).inheritIO();
      pb.environment().putAll(env);
      int rc = pb.start().waitFor();
      if (rc != 0) {
        throw new IllegalStateException(String.join(" ", command) + " exited " + rc);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static KubernetesClient client(Path kubeconfig) throws IOException {
    return new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
        .build();
  }

  static Helm chart() {
    return new Helm(REPO.resolve("helm/warmstart"));
  }
}
