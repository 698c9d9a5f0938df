package dev.warmstart.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/** One running cluster with the chart installed, and what tests do with it. */
public final class Cluster implements ExtensionContext.Store.CloseableResource {
  public static final String RELEASE = "ws";
  public static final String SYSTEM_NS = "warmstart-system";

  /** The node every pod lands on unless it names another (scripts/local-cluster.sh). */
  public static final String NODE = "warmstart-node";

  /**
   * The second node: its own containerd, kubelet root and agent store; tainted so that only pods
   * that name it (spec.nodeName) or tolerate the taint (the agent DaemonSet) run there.
   */
  public static final String NODE2 = "warmstart-node2";

  /** Node 2's directories on the host, bound in its mount namespace to the per-node paths. */
  public static final Path NODE2_DIR = Path.of("/var/lib/warmstart-cluster/node2");

  /**
   * Nodes of the suite's cluster: two, so that a restore on another node is tested too
   * (WARMSTART_CLUSTER_NODES=1 for one, CrossNodeRestoreIT then skips, or fails where required).
   */
  private static final String NODES = System.getenv().getOrDefault("WARMSTART_CLUSTER_NODES", "2");

  public static final String WORKLOAD_IMAGE = "warmstart.local/cpu-workload:dev";
  private static final String STATE = "/var/lib/warmstart-cluster";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String skipReason;
  private final boolean startedHere;
  private final Path kubeconfig;
  private final Path kubectl;
  private final KubernetesClient client;
  private final List<String> namespaces = new ArrayList<>();

  private Cluster(
      String skipReason,
      boolean startedHere,
      Path kubeconfig,
      Path kubectl,
      KubernetesClient client) {
    this.skipReason = skipReason;
    this.startedHere = startedHere;
    this.kubeconfig = kubeconfig;
    this.kubectl = kubectl;
    this.client = client;
  }

  static Cluster start() {
    String missing = LocalCluster.missingPrerequisites();
    if (missing != null) {
      if ("required".equals(System.getenv("WARMSTART_CLUSTER_E2E"))) {
        throw new IllegalStateException(
            "WARMSTART_CLUSTER_E2E=required but this machine cannot run the cluster: " + missing);
      }
      return new Cluster(missing, false, null, null, null);
    }
    Instant t0 = Instant.now();
    Path script = LocalCluster.REPO.resolve("scripts/local-cluster.sh");
    Path kubeconfig = Path.of(STATE, "admin.kubeconfig");
    boolean startedHere = !Files.exists(Path.of(STATE, "pids/kube-apiserver"));
    try {
      return startOn(script, kubeconfig, startedHere, t0);
    } catch (RuntimeException | Error e) {
      if (startedHere) {
        // No resource reaches JUnit's store, so nothing else would tear it down.
        LocalCluster.run(List.of(script.toString(), "down"), Map.of());
      }
      throw e;
    }
  }

  private static Cluster startOn(Path script, Path kubeconfig, boolean startedHere, Instant t0) {
    LocalCluster.run(List.of(script.toString(), "up"), Map.of("WARMSTART_CLUSTER_NODES", NODES));
    Path kubectl = kubectlPath(script);
    Path images = Path.of(System.getProperty("warmstart.images.dir", "target/images"));
    LocalCluster.run(
        List.of(LocalCluster.REPO.resolve("scripts/build-images.sh").toString(), images.toString()),
        Map.of());
    // The operator runs on the first node only (the second is tainted); the agent image (agent,
    // storage pods, placeholders' init containers) and the workload's on every node.
    LocalCluster.run(
        List.of(
            script.toString(), "import", "--node", "1", images.resolve("operator.tar").toString()),
        Map.of());
    List<String> importCmd = new ArrayList<>(List.of(script.toString(), "import"));
    for (String i : List.of("node-agent", "cpu-workload")) {
      importCmd.add(images.resolve(i + ".tar").toString());
    }
    LocalCluster.run(importCmd, Map.of());
    try {
      KubernetesClient client = LocalCluster.client(kubeconfig);
      Cluster cluster = new Cluster(null, startedHere, kubeconfig, kubectl, client);
      cluster.installChart();
      System.out.printf(
          "[cluster-e2e] cluster %s, images imported, chart installed in %d s%n",
          startedHere ? "started" : "reused", Duration.between(t0, Instant.now()).toSeconds());
      return cluster;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path kubectlPath(Path script) {
    try {
      Process p = new ProcessBuilder(script.toString(), "env").start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      for (String line : out.split("\n")) {
        if (line.startsWith("export PATH=")) {
          return Path.of(line.substring("export PATH=".length()).split(":")[0], "kubectl");
        }
      }
      throw new IllegalStateException("local-cluster.sh env printed no PATH: " + out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void installChart() {
    boolean installed =
        client.apps().deployments().inNamespace(SYSTEM_NS).withName(RELEASE + "-operator").get()
            != null;
    if (installed) {
      // A reused cluster: same image tags with new content, so restart the pods on them.
      LocalCluster.chart()
          .upgrade()
          .withName(RELEASE)
          .withNamespace(SYSTEM_NS)
          .withKubeConfig(kubeconfig)
          .withValuesFile(valuesFile())
          .call();
      client
          .pods()
          .inNamespace(SYSTEM_NS)
          .withLabel("app.kubernetes.io/instance", RELEASE)
          .delete();
    } else {
      LocalCluster.chart()
          .install()
          .withName(RELEASE)
          .withNamespace(SYSTEM_NS)
          .createNamespace()
          .withKubeConfig(kubeconfig)
          .withValuesFile(valuesFile())
          .call();
    }
    client
        .apps()
        .deployments()
        .inNamespace(SYSTEM_NS)
        .withName(RELEASE + "-operator")
        .waitUntilReady(3, TimeUnit.MINUTES);
    await(
        Duration.ofMinutes(3),
        "the agent DaemonSet to be ready on every node",
        () -> {
          var ds =
              client.apps().daemonSets().inNamespace(SYSTEM_NS).withName(RELEASE + "-agent").get();
          int nodes = client.nodes().list().getItems().size();
          return ds != null
              && ds.getStatus() != null
              && ds.getStatus().getDesiredNumberScheduled() != null
              && ds.getStatus().getDesiredNumberScheduled() == nodes
              && ds.getStatus().getNumberReady() != null
              && ds.getStatus().getNumberReady() == nodes
              && agentPod() != null
              && isReady(agentPod());
        });
  }

  private static Path valuesFile() {
    try {
      Path f = Files.createTempFile("cluster-values", ".yaml");
      try (var in = Cluster.class.getResourceAsStream("/cluster-values.yaml")) {
        Files.copy(in, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String skipReason() {
    return skipReason;
  }

  public KubernetesClient client() {
    return client;
  }

  public Path kubeconfig() {
    return kubeconfig;
  }

  /** A fresh namespace for one test class, deleted at the end. */
  public String namespace(String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .serverSideApply();
    await(
        Duration.ofSeconds(60),
        "the default ServiceAccount of " + name,
        () -> client.serviceAccounts().inNamespace(name).withName("default").get() != null);
    namespaces.add(name);
    return name;
  }

  /** kubectl against this cluster; returns stdout, throws with stderr unless it exits 0. */
  public String kubectl(String... args) {
    Result r = kubectlResult(args);
    if (r.rc() != 0) {
      throw new IllegalStateException("kubectl " + String.join(" ", args) + ": " + r.err());
    }
    return r.out();
  }

  public record Result(int rc, String out, String err) {}

  /** Host directory under which the tests' hostPath PersistentVolumes keep their files. */
  public static final Path PV_DIR = Path.of("/var/lib/warmstart-cluster/pvc-images");

  /**
   * A claim named {@code images} in {@code ns}, bound to a hostPath PersistentVolume at {@link
   * #PV_DIR}/{@code ns} (outside the per-node binds, so every node reaches the same files) with the
   * given access mode; returns that directory.
   */
  public Path imagesClaim(String ns, String accessMode) {
    Path dir = PV_DIR.resolve(ns);
    Result r =
        apply(
            ns,
            """
            apiVersion: v1
            kind: PersistentVolume
            metadata: {name: %s-images}
            spec:
              capacity: {storage: 2Gi}
              accessModes: [%s]
              storageClassName: warmstart-e2e
              persistentVolumeReclaimPolicy: Delete
              hostPath: {path: %s, type: DirectoryOrCreate}
              claimRef: {namespace: %s, name: images}
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: images}
            spec:
              accessModes: [%s]
              storageClassName: warmstart-e2e
              resources: {requests: {storage: 2Gi}}
            """
                .formatted(ns, accessMode, dir, ns, accessMode));
    if (r.rc() != 0) {
      throw new IllegalStateException("claim not created: " + r.err());
    }
    return dir;
  }

  /** Deletes the PersistentVolume of {@link #imagesClaim} (its namespace is deleted apart). */
  public void deleteImagesClaim(String ns) {
    kubectlResult("delete", "pv", ns + "-images", "--wait=false");
  }

  /** The counter workload checkpointed onto the images claim: its pod, state before, the CR. */
  public record ClaimCheckpoint(Pod source, JsonNode before, JsonNode checkpoint, String image) {}

  /**
   * Starts the counter workload in {@code ns}, lets it count past 50 and checkpoints it as {@code
   * counter-ck} onto the {@link #imagesClaim} ({@code subPath: shared}); returns once Succeeded.
   */
  public ClaimCheckpoint checkpointCounterOnClaim(String ns) {
    Pod source = startWorkload(ns, "counter");
    await(
        Duration.ofSeconds(60),
        "the counter to pass 50",
        () -> state(ns, "counter").path("ticks").asLong() > 50);
    JsonNode before = state(ns, "counter");
    Result r =
        apply(
            ns,
            """
            apiVersion: warmstart.dev/v1alpha1
            kind: GpuCheckpoint
            metadata: {name: counter-ck}
            spec:
              podName: counter
              timeoutSeconds: 120
              storage: {persistentVolumeClaim: {claimName: images, subPath: shared}}
            """);
    if (r.rc() != 0) {
      throw new IllegalStateException("checkpoint not created: " + r.err());
    }
    JsonNode ck = awaitPhase(ns, "gpucheckpoint", "counter-ck", Duration.ofMinutes(4), "Succeeded");
    return new ClaimCheckpoint(source, before, ck, ns + ".counter-ck");
  }

  public Result kubectlResult(String... args) {
    List<String> cmd =
        new ArrayList<>(List.of(kubectl.toString(), "--kubeconfig", kubeconfig.toString()));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).start();
      var out = p.getInputStream().readAllBytes();
      var err = p.getErrorStream().readAllBytes();
      int rc = p.waitFor();
      return new Result(
          rc, new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** kubectl apply of a manifest; returns kubectl's result (does not throw). */
  public Result apply(String namespace, String yaml) {
    try {
      Path f = Files.createTempFile("manifest", ".yaml");
      Files.writeString(f, yaml);
      return kubectlResult("-n", namespace, "apply", "-f", f.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The sample workload: stateful_server.py holding a 64 MiB buffer and a counter in memory only.
   */
  public Pod startWorkload(String namespace, String name) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .addToLabels("app", name)
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("app")
            .withImage(WORKLOAD_IMAGE)
            .withImagePullPolicy("Never")
            .withArgs("--size-mib", "64")
            .endContainer()
            .withTerminationGracePeriodSeconds(2L)
            .endSpec()
            .build();
    client.resource(pod).create();
    client.pods().inNamespace(namespace).withName(name).waitUntilReady(2, TimeUnit.MINUTES);
    await(
        Duration.ofSeconds(60), name + " to serve /state", () -> tryState(namespace, name) != null);
    return client.pods().inNamespace(namespace).withName(name).get();
  }

  /**
   * The workload's in-memory state, read inside its pod (samples/cpu-workload/stateful_server.py):
   * {"counter" (mutations), "checksum" (of its random buffer), "ticks" (a clock, every 100 ms)}.
   */
  public JsonNode state(String namespace, String pod) {
    JsonNode s = tryState(namespace, pod);
    if (s == null) {
      throw new IllegalStateException("no /state from " + namespace + "/" + pod);
    }
    return s;
  }

  private JsonNode tryState(String namespace, String pod) {
    Result r =
        kubectlResult(
            "-n",
            namespace,
            "exec",
            pod,
            "-c",
            "app",
            "--",
            "python3",
            "-c",
            "import urllib.request;"
                + "print(urllib.request.urlopen('http://127.0.0.1:18080/state',timeout=5)"
                + ".read().decode())");
    if (r.rc() != 0) {
      return null;
    }
    try {
      return JSON.readTree(r.out());
    } catch (IOException e) {
      return null;
    }
  }

  /** The agent pod of {@link #NODE}, where the tests' workloads run. */
  public Pod agentPod() {
    return agentPod(NODE);
  }

  public Pod agentPod(String node) {
    return client
        .pods()
        .inNamespace(SYSTEM_NS)
        .withLabel("app.kubernetes.io/component", "agent")
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> node.equals(p.getSpec().getNodeName()))
        .findFirst()
        .orElse(null);
  }

  /** Whether this cluster has the second node (a reused one-node cluster has not). */
  public boolean hasNode2() {
    return client.nodes().withName(NODE2).get() != null;
  }

  /** The agents' TLS Secret as the chart made it (certificate, key and CA, base64). */
  public Map<String, String> agentTlsSecret() {
    return client.secrets().inNamespace(SYSTEM_NS).withName(RELEASE + "-agent-tls").get().getData();
  }

  /** An HTTPS client that trusts the agents as the operator does: the chart's CA and name. */
  public HttpClient agentHttps() {
    try {
      byte[] ca = java.util.Base64.getDecoder().decode(agentTlsSecret().get("ca.crt"));
      return HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .sslContext(
              dev.warmstart.operator.agent.AgentTls.context(
                  ca, RELEASE + "-agent." + SYSTEM_NS + ".svc"))
          .build();
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The agent's API address, {@code path} included (HTTPS, by pod IP, as the operator calls it).
   */
  public URI agentUri(String path) {
    return URI.create("https://" + agentPod().getStatus().getPodIP() + ":8443" + path);
  }

  /** Upgrades the release with the same values (the chart's upgrade path, e.g. its TLS Secret). */
  public void upgradeChart() {
    LocalCluster.chart()
        .upgrade()
        .withName(RELEASE)
        .withNamespace(SYSTEM_NS)
        .withKubeConfig(kubeconfig)
        .withValuesFile(valuesFile())
        .call();
  }

  public Pod operatorPod() {
    return client
        .pods()
        .inNamespace(SYSTEM_NS)
        .withLabel("app.kubernetes.io/component", "operator")
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .findFirst()
        .orElse(null);
  }

  public static boolean isReady(Pod p) {
    return p.getStatus() != null
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** Custom resource as JSON (kubectl get -o json), or null when absent. */
  public JsonNode get(String namespace, String resource, String name) {
    Result r = kubectlResult("-n", namespace, "get", resource, name, "-o", "json");
    if (r.rc() != 0) {
      return null;
    }
    try {
      return JSON.readTree(r.out());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The items of a resource with the label selector, as kubectl returns them. */
  public List<JsonNode> list(String namespace, String resource, String selector) {
    String out = kubectl("-n", namespace, "get", resource, "-l", selector, "-o", "json");
    try {
      List<JsonNode> items = new ArrayList<>();
      JSON.readTree(out).path("items").forEach(items::add);
      return items;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String phase(JsonNode cr) {
    return cr == null ? null : cr.path("status").path("phase").asText(null);
  }

  /** Waits until the CR reaches one of the phases; returns it. Fails on a terminal other phase. */
  public JsonNode awaitPhase(
      String namespace, String resource, String name, Duration timeout, String phase) {
    JsonNode[] last = new JsonNode[1];
    await(
        timeout,
        resource + " " + name + " to reach " + phase,
        () -> {
          last[0] = get(namespace, resource, name);
          String p = phase(last[0]);
          if ("Failed".equals(p) && !"Failed".equals(phase)) {
            throw new AssertionError(resource + " " + name + " failed: " + last[0].path("status"));
          }
          return phase.equals(p);
        });
    return last[0];
  }

  public static void await(Duration timeout, String what, Supplier<Boolean> condition) {
    Instant end = Instant.now().plus(timeout);
    while (true) {
      if (Boolean.TRUE.equals(condition.get())) {
        return;
      }
      if (Instant.now().isAfter(end)) {
        throw new AssertionError(
            "timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  public String operatorLogs() {
    return client
        .pods()
        .inNamespace(SYSTEM_NS)
        .withName(operatorPod().getMetadata().getName())
        .getLog();
  }

  @Override
  public void close() {
    if (skipReason != null) {
      return;
    }
    Path logs = Path.of(System.getProperty("warmstart.cluster.logs", "target/cluster-logs"));
    try {
      Files.createDirectories(logs);
      for (Pod p : client.pods().inAnyNamespace().list().getItems()) {
        String name = p.getMetadata().getNamespace() + "_" + p.getMetadata().getName();
        for (var c : p.getSpec().getContainers()) {
          try {
            Files.writeString(
                logs.resolve(name + "_" + c.getName() + ".log"),
                client
                    .pods()
                    .inNamespace(p.getMetadata().getNamespace())
                    .withName(p.getMetadata().getName())
                    .inContainer(c.getName())
                    .getLog());
          } catch (RuntimeException e) {
            // a pod that is gone or never started has no log
          }
        }
      }
      Files.writeString(logs.resolve("events.txt"), kubectlResult("get", "events", "-A").out());
    } catch (IOException | RuntimeException e) {
      System.out.println("[cluster-e2e] could not save pod logs: " + e);
    }
    client.close();
    if (startedHere) {
      LocalCluster.run(
          List.of(LocalCluster.REPO.resolve("scripts/local-cluster.sh").toString(), "down"),
          Map.of("WARMSTART_CLUSTER_LOGS", logs.resolve("components").toString()));
    } else {
      for (String ns : namespaces) {
        kubectlResult("delete", "namespace", ns, "--wait=false");
      }
    }
  }
}
