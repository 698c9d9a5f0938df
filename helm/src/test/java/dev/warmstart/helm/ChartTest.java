package dev.warmstart.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The chart users install, checked with real Helm (helm-java embeds Helm 3). */
class ChartTest {
  private static final Path CHART = repoRoot().resolve("helm/warmstart");

  static Path repoRoot() {
    String root = System.getProperty("warmstart.repo.root");
    return root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize();
  }

  @SafeVarargs
  private static List<HasMetadata> render(UnaryOperator<TemplateCommand>... setters) {
    TemplateCommand cmd =
        new Helm(CHART)
            .template()
            .withName("ws")
            .withNamespace("warmstart")
            .withKubeVersion("1.32.0");
    for (var s : setters) {
      cmd = s.apply(cmd);
    }
    String yaml = cmd.call();
    List<HasMetadata> out = new java.util.ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\s*$")) {
      if (doc.strip().isEmpty() || doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
        continue;
      }
      out.add(
          Serialization.unmarshal(
              new ByteArrayInputStream(doc.getBytes(StandardCharsets.UTF_8)), HasMetadata.class));
    }
    return out;
  }

  @Test
  void lintsStrictlyClean() {
    LintResult result = new Helm(CHART).lint().strict().call();
    assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
  }

  @Test
  void rendersOperatorAndAgentWithDefaults() {
    List<HasMetadata> objects = render();
    assertThat(objects)
        .extracting(o -> o.getKind() + "/" + o.getMetadata().getName())
        .contains("Deployment/ws-operator", "DaemonSet/ws-agent", "ServiceAccount/ws-operator");
    DaemonSet agent = find(objects, DaemonSet.class);
    assertThat(agent.getSpec().getTemplate().getSpec().getHostPID()).isTrue();
    assertThat(agent.getSpec().getUpdateStrategy().getType()).isEqualTo("OnDelete");
    assertThat(imagesHostPath(agent)).isEqualTo("/var/lib/warmstart");
  }

  @Test
  void operatorRbacGrantsExactlyTheListedVerbsAndItCallsAgentsWithAnAudienceToken() {
    List<HasMetadata> objects = render();
    var role =
        objects.stream()
            .filter(io.fabric8.kubernetes.api.model.rbac.ClusterRole.class::isInstance)
            .map(io.fabric8.kubernetes.api.model.rbac.ClusterRole.class::cast)
            .filter(r -> r.getMetadata().getName().equals("ws-operator"))
            .findFirst()
            .orElseThrow();
    assertThat(role.getRules())
        .extracting(r -> String.join(",", r.getResources()) + ":" + String.join(",", r.getVerbs()))
        .containsExactly(
            "gpucheckpoints,gpurestores,gpustandbypools,gpucheckpointschedules:"
                + "get,list,watch,patch,update",
            "gpurestores:create,delete",
            "gpucheckpoints:create,delete",
            "gpucheckpoints/status,gpurestores/status,gpustandbypools/status,"
                + "gpucheckpointschedules/status:update,patch",
            "gpurestores/finalizers,gpustandbypools/finalizers:update",
            "pods:get,list,watch,create,delete",
            "events:create");
    var pod = find(objects, Deployment.class).getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes())
        .filteredOn(v -> v.getName().equals("agent-token"))
        .singleElement()
        .satisfies(
            v ->
                assertThat(
                        v.getProjected().getSources().get(0).getServiceAccountToken().getAudience())
                    .isEqualTo("warmstart-agent"));
    assertThat(pod.getContainers().get(0).getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains("WARMSTART_OPERATOR_AGENT_NAMESPACE=warmstart");
  }

  @Test
  void onlyTheOperatorMayReachTheAgentsAndMonitoringIsOptIn() {
    List<HasMetadata> objects = render();
    var policy = find(objects, io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class);
    assertThat(policy.getSpec().getPodSelector().getMatchLabels())
        .containsEntry("app.kubernetes.io/component", "agent");
    assertThat(policy.getSpec().getIngress())
        .singleElement()
        .satisfies(
            rule -> {
              assertThat(rule.getFrom())
                  .singleElement()
                  .satisfies(
                      peer ->
                          assertThat(peer.getPodSelector().getMatchLabels())
                              .containsEntry("app.kubernetes.io/component", "operator"));
              assertThat(rule.getPorts())
                  .singleElement()
                  .satisfies(p -> assertThat(p.getPort().getIntVal()).isEqualTo(8443));
            });
    assertThat(objects).noneMatch(o -> o.getKind().equals("ServiceMonitor"));

    List<HasMetadata> monitored =
        render(
            c -> c.set("serviceMonitor.enabled", true),
            c -> c.set("networkPolicy.enabled", false),
            c -> c.set("agent.runtimeClassName", "nvidia"));
    assertThat(monitored).anyMatch(o -> o.getKind().equals("ServiceMonitor"));
    assertThat(monitored)
        .anyMatch(
            o -> o.getKind().equals("PodMonitor") && o.getMetadata().getName().equals("ws-agent"));
    assertThat(monitored).noneMatch(o -> o.getKind().equals("NetworkPolicy"));
    assertThat(
            find(monitored, DaemonSet.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getRuntimeClassName())
        .isEqualTo("nvidia");
  }

  @Test
  void dashboardAndAlertsAreOptIn() {
    assertThat(render())
        .noneMatch(o -> o.getKind().equals("PrometheusRule"))
        .noneMatch(o -> o.getKind().equals("ConfigMap"));
  }

  @Test
  void theDashboardShipsAsAConfigMapForGrafanasSidecar() throws IOException {
    List<HasMetadata> objects =
        render(
            c -> c.set("grafanaDashboard.enabled", true),
            c -> c.set("grafanaDashboard.namespace", "monitoring"));
    var map = find(objects, io.fabric8.kubernetes.api.model.ConfigMap.class);
    assertThat(map.getMetadata().getNamespace()).isEqualTo("monitoring");
    assertThat(map.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    assertThat(map.getMetadata().getAnnotations()).containsEntry("grafana_folder", "Warmstart");
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var shipped = json.readTree(map.getData().get("warmstart.json"));
    assertThat(shipped)
        .isEqualTo(json.readTree(CHART.resolve("dashboards/warmstart.json").toFile()));
    assertThat(shipped.path("panels").size()).isGreaterThan(5);
  }

  @Test
  void thePrometheusRuleCarriesTheFourAlertsAndTheAgentScrapeAlertWithMonitoring() {
    var rule =
        render(
                c -> c.set("prometheusRule.enabled", true),
                c -> c.set("prometheusRule.labels.release", "prometheus"),
                c -> c.set("prometheusRule.storeFreePercent", 20))
            .stream()
            .filter(o -> o.getKind().equals("PrometheusRule"))
            .map(io.fabric8.kubernetes.api.model.GenericKubernetesResource.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(rule.getMetadata().getLabels()).containsEntry("release", "prometheus");
    List<java.util.Map<String, Object>> rules = rules(rule);
    assertThat(rules)
        .extracting(r -> r.get("alert"))
        .containsExactly(
            "WarmstartCheckpointsFailing",
            "WarmstartStandbyPoolEmpty",
            "WarmstartNodeStoreNearlyFull",
            "WarmstartAgentUnreachable");
    assertThat(rules.get(2).get("expr").toString()).endsWith("* 100 < 20");
    assertThat(rules.get(2).get("annotations").toString()).contains("Less than 20%");
    assertThat(rules.get(0).get("annotations").toString()).contains("{{ $labels.result }}");

    var monitored =
        render(
                c -> c.set("prometheusRule.enabled", true),
                c -> c.set("serviceMonitor.enabled", true))
            .stream()
            .filter(o -> o.getKind().equals("PrometheusRule"))
            .map(io.fabric8.kubernetes.api.model.GenericKubernetesResource.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(rules(monitored))
        .last()
        .satisfies(
            r ->
                assertThat(r.get("expr"))
                    .isEqualTo("up{job=\"ws-agent\", namespace=\"warmstart\"} == 0"));
  }

  @SuppressWarnings("unchecked")
  private static List<java.util.Map<String, Object>> rules(
      io.fabric8.kubernetes.api.model.GenericKubernetesResource rule) {
    var spec = (java.util.Map<String, Object>) rule.getAdditionalProperties().get("spec");
    var groups = (List<java.util.Map<String, Object>>) spec.get("groups");
    return (List<java.util.Map<String, Object>>) groups.get(0).get("rules");
  }

  @Test
  void agentOnlyMayReviewTokensAndKnowsTheOperatorIdentity() {
    List<HasMetadata> objects = render();
    var role =
        objects.stream()
            .filter(io.fabric8.kubernetes.api.model.rbac.ClusterRole.class::isInstance)
            .map(io.fabric8.kubernetes.api.model.rbac.ClusterRole.class::cast)
            .filter(r -> r.getMetadata().getName().equals("ws-agent"))
            .findFirst()
            .orElseThrow();
    assertThat(role.getRules()).hasSize(1);
    assertThat(role.getRules().get(0).getResources()).containsExactly("tokenreviews");
    assertThat(role.getRules().get(0).getVerbs()).containsExactly("create");
    var env =
        find(objects, DaemonSet.class)
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getEnv();
    assertThat(env)
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("WARMSTART_AGENT_AUTH_ALLOWED_USER");
              assertThat(e.getValue()).isEqualTo("system:serviceaccount:warmstart:ws-operator");
            });
  }

  @Test
  void theAgentServesOnlyHttpsWithACertificateTheOperatorChecks() throws Exception {
    List<HasMetadata> objects = render();
    Secret tls = find(objects, Secret.class);
    assertThat(tls.getMetadata().getName()).isEqualTo("ws-agent-tls");
    assertThat(tls.getType()).isEqualTo("kubernetes.io/tls");
    var certs = CertificateFactory.getInstance("X.509");
    X509Certificate ca = x509(certs, tls.getData().get("ca.crt"));
    X509Certificate cert = x509(certs, tls.getData().get("tls.crt"));
    cert.verify(ca.getPublicKey()); // throws unless the chart's CA signed it
    assertThat(ca.getBasicConstraints()).as("a CA").isGreaterThanOrEqualTo(0);
    assertThat(cert.getSubjectAlternativeNames())
        .containsExactly(List.of(2, "ws-agent.warmstart.svc"));
    assertThat(new String(Base64.getDecoder().decode(tls.getData().get("tls.key"))))
        .contains("PRIVATE KEY");

    var agent = find(objects, DaemonSet.class).getSpec().getTemplate().getSpec();
    var container = agent.getContainers().get(0);
    assertThat(container.getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains(
            "QUARKUS_HTTP_SSL_PORT=8443",
            "QUARKUS_HTTP_INSECURE_REQUESTS=disabled",
            "QUARKUS_HTTP_SSL_CERTIFICATE_FILES=/etc/warmstart/tls/tls.crt",
            "QUARKUS_HTTP_SSL_CERTIFICATE_KEY_FILES=/etc/warmstart/tls/tls.key")
        .noneMatch(e -> e.startsWith("QUARKUS_HTTP_PORT="));
    assertThat(container.getReadinessProbe().getHttpGet().getScheme()).isEqualTo("HTTPS");
    assertThat(container.getLivenessProbe().getHttpGet().getScheme()).isEqualTo("HTTPS");
    assertThat(agent.getVolumes())
        .filteredOn(v -> v.getName().equals("tls"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.getSecret().getSecretName()).isEqualTo("ws-agent-tls");
              assertThat(v.getSecret().getItems())
                  .extracting(i -> i.getKey())
                  .containsExactly("tls.crt", "tls.key");
            });

    var operator = find(objects, Deployment.class).getSpec().getTemplate().getSpec();
    assertThat(operator.getContainers().get(0).getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains(
            "WARMSTART_OPERATOR_AGENT_SERVER_NAME=ws-agent.warmstart.svc",
            "WARMSTART_OPERATOR_AGENT_CA_PATH=/etc/warmstart/agent-ca/ca.crt");
    assertThat(operator.getVolumes())
        .filteredOn(v -> v.getName().equals("agent-ca"))
        .singleElement()
        .satisfies(
            v ->
                assertThat(v.getSecret().getItems())
                    .as("the CA certificate, no key")
                    .extracting(i -> i.getKey())
                    .containsExactly("ca.crt"));
  }

  @Test
  void aCertificateFromCertManagerReplacesTheChartsOwn() {
    List<HasMetadata> objects =
        render(
            c -> c.set("agent.tls.existingSecret", "agent-cert"),
            c -> c.set("agent.tls.serverName", "agent.gpu.example.com"),
            c -> c.set("serviceMonitor.enabled", true));
    assertThat(objects).noneMatch(Secret.class::isInstance);
    var agent = find(objects, DaemonSet.class).getSpec().getTemplate().getSpec();
    assertThat(agent.getVolumes())
        .filteredOn(v -> v.getName().equals("tls"))
        .singleElement()
        .satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("agent-cert"));
    var operator = find(objects, Deployment.class).getSpec().getTemplate().getSpec();
    assertThat(operator.getContainers().get(0).getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains("WARMSTART_OPERATOR_AGENT_SERVER_NAME=agent.gpu.example.com");
    HasMetadata podMonitor =
        objects.stream().filter(o -> o.getKind().equals("PodMonitor")).findFirst().orElseThrow();
    assertThat(Serialization.asJson(podMonitor))
        .contains(
            "\"scheme\":\"https\"",
            "\"name\":\"agent-cert\"",
            "\"serverName\":\"agent.gpu.example.com\"");
  }

  private static X509Certificate x509(CertificateFactory certs, String base64) throws Exception {
    return (X509Certificate)
        certs.generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode(base64)));
  }

  @Test
  void onlyTheAgentIsPrivileged() {
    List<HasMetadata> objects = render();
    Deployment operator = find(objects, Deployment.class);
    var op = operator.getSpec().getTemplate().getSpec();
    assertThat(op.getHostPID()).isNotEqualTo(Boolean.TRUE);
    assertThat(op.getContainers())
        .allSatisfy(
            c -> {
              assertThat(c.getSecurityContext().getPrivileged()).isNotEqualTo(Boolean.TRUE);
              assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
              assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
            });
  }

  @Test
  void nonDefaultValuesReachTheObjects() {
    List<HasMetadata> objects =
        render(
            c -> c.set("agent.storage.hostPath", "/data/ckpt"),
            c -> c.set("image.tag", "9.9.9"),
            c -> c.set("operator.replicas", 2),
            c -> c.set("agent.gpu.warmPool", false),
            c -> c.set("agent.gpu.devices[0]", "0"),
            c -> c.set("agent.gpu.devices[1]", "2"),
            c -> c.set("agent.thp", "always"));
    DaemonSet agent = find(objects, DaemonSet.class);
    assertThat(imagesHostPath(agent)).isEqualTo("/data/ckpt");
    assertThat(agent.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains(
            "WARMSTART_AGENT_GPU_WARM_POOL=false",
            "WARMSTART_AGENT_GPU_DEVICES=0,2",
            "WARMSTART_AGENT_THP=always");
    assertThat(agent.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("ghcr.io/warmstart/node-agent:9.9.9");
    assertThat(find(objects, Deployment.class).getSpec().getReplicas()).isEqualTo(2);
  }

  @Test
  void theAgentPutsTheGpuMemoryShimOnItsNodeUnlessTurnedOff() {
    DaemonSet agent =
        find(render(c -> c.set("agent.gpuMemoryShim.hostPath", "/x/gpumem")), DaemonSet.class);
    var pod = agent.getSpec().getTemplate();
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("warmstart.dev/gpu-memory-shim", "true");
    assertThat(pod.getSpec().getInitContainers())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(String.join(" ", c.getCommand()))
                  .contains("/opt/warmstart/gpumem/libwarmstart_gpumem.so")
                  .contains("mv -f /node/.libwarmstart_gpumem.so.new /node/libwarmstart_gpumem.so");
              assertThat(c.getVolumeMounts())
                  .extracting(m -> m.getName() + ":" + m.getMountPath())
                  .containsExactly("gpu-memory-shim:/node");
            });
    assertThat(pod.getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("gpu-memory-shim"))
        .singleElement()
        .satisfies(v -> assertThat(v.getHostPath().getPath()).isEqualTo("/x/gpumem"));

    DaemonSet off = find(render(c -> c.set("agent.gpuMemoryShim.enabled", false)), DaemonSet.class);
    assertThat(off.getSpec().getTemplate().getSpec().getInitContainers()).isEmpty();
    assertThat(off.getSpec().getTemplate().getMetadata().getLabels())
        .doesNotContainKey("warmstart.dev/gpu-memory-shim");
    assertThatThrownBy(() -> render(c -> c.set("agent.gpuMemoryShim.hostPath", "gpumem")))
        .hasMessageContaining("hostPath");
  }

  @Test
  void schemaRejectsBadValues() {
    assertThatThrownBy(() -> render(c -> c.set("agent.storage.hostPath", "relative/dir")))
        .hasMessageContaining("hostPath");
    assertThatThrownBy(() -> render(c -> c.set("image.pullPolicy", "Sometimes")))
        .hasMessageContaining("pullPolicy");
    assertThatThrownBy(() -> render(c -> c.set("agent.typo", "x"))).hasMessageContaining("typo");
    assertThatThrownBy(() -> render(c -> c.set("agent.gpu.devices[0]", "first")))
        .hasMessageContaining("devices");
    assertThatThrownBy(() -> render(c -> c.set("agent.thp", "sometimes")))
        .hasMessageContaining("thp");
    assertThatThrownBy(() -> render(c -> c.set("prometheusRule.storeFreePercent", 100)))
        .hasMessageContaining("storeFreePercent");
    assertThatThrownBy(() -> render(c -> c.set("agent.tls.serverName", "Not A Name")))
        .hasMessageContaining("serverName");
    assertThatThrownBy(() -> render(c -> c.set("grafanaDashboard.enable", true)))
        .hasMessageContaining("enable");
  }

  @Test
  void chartCarriesTheGeneratedCrds() throws IOException {
    try (Stream<Path> files = Files.list(repoRoot().resolve("crds"))) {
      for (Path crd : files.toList()) {
        Path inChart = CHART.resolve("crds").resolve(crd.getFileName());
        assertThat(inChart).as("chart copy of %s", crd.getFileName()).exists();
        assertThat(Files.readString(inChart))
            .as("helm/warmstart/crds/%s differs from crds/", crd.getFileName())
            .isEqualTo(Files.readString(crd));
      }
    }
  }

  private static String imagesHostPath(DaemonSet agent) {
    return agent.getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals("images"))
        .findFirst()
        .orElseThrow()
        .getHostPath()
        .getPath();
  }

  private static <T> T find(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow();
  }
}
