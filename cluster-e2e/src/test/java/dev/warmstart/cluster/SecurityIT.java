package dev.warmstart.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Security as installed by the chart: the agent's API speaks HTTPS only, with a certificate of the
 * chart's CA that survives upgrades; it takes the operator's projected token and nothing else,
 * checked by the real API server (TokenReview); the operator does its work with exactly the chart's
 * RBAC; the NetworkPolicy is rendered and accepted.
 *
 * <p>The test reaches the agent pod's IP directly: the host has a route to the pod range
 * (scripts/local-cluster.sh), and this cluster's CNI (the bridge plugin) does not enforce
 * NetworkPolicy, so the policy's effect is not observable here (see README).
 */
@ExtendWith(LocalCluster.class)
class SecurityIT {
  private static final HttpClient PLAIN =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static Cluster cluster;
  private static String ns;

  @BeforeAll
  static void namespace() {
    cluster = LocalCluster.cluster();
    ns = cluster.namespace("e2e-security");
  }

  @Test
  void theAgentAcceptsTheOperatorsProjectedToken() throws Exception {
    String token =
        cluster.kubectl(
            "-n",
            Cluster.SYSTEM_NS,
            "exec",
            cluster.operatorPod().getMetadata().getName(),
            "--",
            "cat",
            "/var/run/secrets/warmstart/agent-token");
    HttpResponse<String> r = callAgent(token.trim());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @Test
  void theAgentRefusesAnotherServiceAccountsToken() throws Exception {
    String token =
        cluster.kubectl("-n", ns, "create", "token", "default", "--audience", "warmstart-agent");
    HttpResponse<String> r = callAgent(token.trim());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
  }

  @Test
  void theAgentRefusesTheOperatorsTokenForAnotherAudience() throws Exception {
    String token =
        cluster.kubectl(
            "-n",
            Cluster.SYSTEM_NS,
            "create",
            "token",
            Cluster.RELEASE + "-operator",
            "--audience",
            "some-other-service");
    HttpResponse<String> r = callAgent(token.trim());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
  }

  @Test
  void theAgentRefusesCallsWithoutToken() throws Exception {
    HttpResponse<String> r = callAgent(null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
  }

  @Test
  void theOperatorHasEveryPermissionItUses() {
    // Its ServiceAccount, impersonated, against the chart's RBAC as the API server evaluates it.
    String sa = "system:serviceaccount:" + Cluster.SYSTEM_NS + ":" + Cluster.RELEASE + "-operator";
    for (String check :
        new String[] {
          "get gpucheckpoints.warmstart.dev",
          "patch gpucheckpoints.warmstart.dev/status",
          "patch gpurestores.warmstart.dev/status",
          "create gpurestores.warmstart.dev",
          "create pods",
          "delete pods",
          "create events",
        }) {
      String[] verbResource = check.split(" ");
      String answer =
          cluster
              .kubectlResult(
                  "auth", "can-i", verbResource[0], verbResource[1], "--as", sa, "-n", ns)
              .out()
              .trim();
      assertThat(answer).as("can %s %s", sa, check).isEqualTo("yes");
    }
    assertThat(
            cluster
                .kubectlResult("auth", "can-i", "get", "secrets", "--as", sa, "-n", ns)
                .out()
                .trim())
        .as("least privilege: no secrets")
        .isEqualTo("no");
  }

  @Test
  void theOperatorsLogHasNoForbiddenCall() {
    // Runs after the other classes' work (alphabetical order: CheckpointRestoreIT first), so the
    // log covers checkpoints, restores and pools done with the chart's RBAC.
    assertThat(cluster.operatorLogs())
        .doesNotContain("Forbidden")
        .doesNotContain(" 403 ")
        .doesNotContainIgnoringCase("is forbidden");
  }

  @Test
  void theNetworkPolicyIsRenderedAndApplied() {
    String policy =
        cluster.kubectl(
            "-n",
            Cluster.SYSTEM_NS,
            "get",
            "networkpolicy",
            Cluster.RELEASE + "-agent",
            "-o",
            "jsonpath={.spec.podSelector.matchLabels}{' '}{.spec.ingress[0].ports[0].port}");
    assertThat(policy).contains("\"app.kubernetes.io/component\":\"agent\"").endsWith(" 8443");
  }

  @Test
  void theAgentServesNoPlainHttp() {
    Pod agent = cluster.agentPod();
    // The token would cross the pod network in clear: the agent's port speaks TLS only.
    assertThatThrownBy(
            () ->
                PLAIN.send(
                    HttpRequest.newBuilder(
                            URI.create(
                                "http://" + agent.getStatus().getPodIP() + ":8443/v1/images"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void theAgentsCertificateIsCheckedAgainstTheChartsCa() {
    // A client that trusts only the JDK's public CAs refuses it: the chart's own CA signed it.
    assertThatThrownBy(
            () ->
                PLAIN.send(
                    HttpRequest.newBuilder(cluster.agentUri("/q/health/live"))
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void anUpgradeKeepsTheAgentsCertificateSoRunningAgentsStayTrusted() throws Exception {
    Map<String, String> before = cluster.agentTlsSecret();
    cluster.upgradeChart();
    assertThat(cluster.agentTlsSecret())
        .as("the chart's Secret after helm upgrade")
        .isEqualTo(before);
    // The agent (not restarted: OnDelete) still answers the operator's client with its token.
    theAgentAcceptsTheOperatorsProjectedToken();
  }

  private static HttpResponse<String> callAgent(String token)
      throws IOException, InterruptedException {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(cluster.agentUri("/v1/images"))
            .timeout(Duration.ofSeconds(20))
            .GET();
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    return cluster.agentHttps().send(req.build(), HttpResponse.BodyHandlers.ofString());
  }
}
