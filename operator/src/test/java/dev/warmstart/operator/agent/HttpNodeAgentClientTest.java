package dev.warmstart.operator.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.warmstart.api.agent.AgentProtocol;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.agent.StoreUsage;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.status.ConditionReason;
import dev.warmstart.operator.support.TestCertificates;
import dev.warmstart.operator.support.TestConfig;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS client against a stand-in agent endpoint (JDK HttpsServer with a certificate from a
 * test CA): the agent pod is found on the node through the API, every call carries the projected
 * token, and answers map to the client's outcomes (404 unknown, 400/409 rejected, other errors
 * unreachable). An endpoint without the agents' CA and name, or without TLS, never sees the token.
 */
@EnableKubernetesMockClient(crud = true)
class HttpNodeAgentClientTest {
  KubernetesClient client;
  @TempDir Path dir;
  private HttpServer server;
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final List<String> protocols = new CopyOnWriteArrayList<>();
  private volatile int submitStatus = 202;
  private volatile int storeStatus = 200;
  private HttpNodeAgentClient agents;

  private static final String NAME = "warmstart-agent.warmstart-system.svc";
  private TestCertificates.Issued ca;

  @BeforeEach
  void setUp() throws Exception {
    ca = TestCertificates.ca("warmstart-agent-ca");
    Path caFile = Files.writeString(dir.resolve("ca.crt"), ca.certPem());
    Path token = Files.writeString(dir.resolve("token"), "projected-token\n");
    server = serve(https(TestCertificates.server(ca, NAME).serverContext()));
    client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("agent-x")
                .withNamespace("warmstart-system")
                .withLabels(Map.of("app.kubernetes.io/component", "agent"))
                .endMetadata()
                .withNewSpec()
                .withNodeName("gpu-1")
                .endSpec()
                .withNewStatus()
                .withPhase("Running")
                .withPodIP("127.0.0.1")
                .addNewCondition()
                .withType("Ready")
                .withStatus("True")
                .endCondition()
                .endStatus()
                .build())
        .create();
    OperatorConfig config = new Port(server.getAddress().getPort(), token, caFile, NAME);
    agents =
        new HttpNodeAgentClient(new AgentDirectory(client, config), config, new ObjectMapper());
  }

  private static HttpsServer https(SSLContext tls) throws Exception {
    HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.setHttpsConfigurator(new HttpsConfigurator(tls));
    return s;
  }

  /** The stand-in agent's API on {@code server}, started. */
  private HttpServer serve(HttpServer server) {
    ObjectMapper json = new ObjectMapper();
    server.createContext(
        "/v1/operations",
        ex -> {
          authorizations.add(ex.getRequestHeaders().getFirst("Authorization"));
          protocols.add(String.valueOf(ex.getRequestHeaders().getFirst(AgentProtocol.HEADER)));
          byte[] body;
          int code;
          if (ex.getRequestMethod().equals("POST")) {
            OperationRequest req = json.readValue(ex.getRequestBody(), OperationRequest.class);
            code = submitStatus;
            body =
                code == 202
                    ? json.writeValueAsBytes(
                        new OperationStatus(
                            "op-1",
                            req.idempotencyKey(),
                            req.kind(),
                            OperationState.ACCEPTED,
                            null,
                            "2026-11-24T10:00:00Z",
                            null,
                            null,
                            null,
                            null,
                            null))
                    : "{\"reason\":\"InvalidRequest\",\"message\":\"bad\"}"
                        .getBytes(StandardCharsets.UTF_8);
          } else if (ex.getRequestURI().getPath().endsWith("/op-1")) {
            code = 200;
            body =
                json.writeValueAsBytes(
                    new OperationStatus(
                        "op-1",
                        "k",
                        OperationKind.CHECKPOINT,
                        OperationState.RUNNING,
                        "dump",
                        "2026-11-24T10:00:00Z",
                        null,
                        null,
                        null,
                        null,
                        null));
          } else {
            code = 404;
            body = new byte[0];
          }
          ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
          if (body.length > 0) {
            ex.getResponseBody().write(body);
          }
          ex.close();
        });
    server.createContext(
        "/v1/store",
        ex -> {
          authorizations.add(ex.getRequestHeaders().getFirst("Authorization"));
          byte[] body =
              storeStatus == 200
                  ? json.writeValueAsBytes(
                      new StoreUsage("gpu-1", 1000L << 30, 12L << 30, 900L << 30))
                  : new byte[0];
          ex.sendResponseHeaders(storeStatus, body.length == 0 ? -1 : body.length);
          if (body.length > 0) {
            ex.getResponseBody().write(body);
          }
          ex.close();
        });
    server.start();
    return server;
  }

  /** The stand-in now listens on the same port with another TLS setup, or none. */
  private void replaceServer(SSLContext tls) throws Exception {
    int port = server.getAddress().getPort();
    server.stop(0);
    HttpServer other =
        tls == null
            ? HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0)
            : HttpsServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    if (tls != null) {
      ((HttpsServer) other).setHttpsConfigurator(new HttpsConfigurator(tls));
    }
    server = serve(other);
  }

  @Test
  void refusesAnAgentWithACertificateFromAnotherCa() throws Exception {
    // Same name, another CA: e.g. a pod on the agent's IP after the agent went away.
    replaceServer(
        TestCertificates.server(TestCertificates.ca("impostor-ca"), NAME).serverContext());
    assertThatThrownBy(() -> agents.submit("gpu-1", checkpoint()))
        .isInstanceOfSatisfying(
            AgentUnavailableException.class,
            e -> assertThat(e.reason()).isEqualTo(ConditionReason.AgentUnreachable))
        .hasMessageContaining("PKIX");
    assertThatThrownBy(() -> agents.get("gpu-1", "op-1"))
        .isInstanceOf(AgentUnavailableException.class);
    assertThat(authorizations).as("the token never reached it").isEmpty();
  }

  @Test
  void aRotatedCaIsReadOnTheNextCall() throws Exception {
    assertThat(agents.storeUsage("gpu-1")).isPresent();
    Path caFile = dir.resolve("ca.crt");
    String original = Files.readString(caFile);
    Files.writeString(caFile, TestCertificates.ca("rotated-ca").certPem());
    assertThatThrownBy(() -> agents.storeUsage("gpu-1"))
        .as("the agent's certificate is not from the new CA")
        .isInstanceOf(AgentUnavailableException.class);
    Files.writeString(caFile, original);
    assertThat(agents.storeUsage("gpu-1")).isPresent();
  }

  @Test
  void refusesACertificateOfTheAgentsCaIssuedForAnotherName() throws Exception {
    replaceServer(TestCertificates.server(ca, "something-else.example").serverContext());
    assertThatThrownBy(() -> agents.storeUsage("gpu-1"))
        .isInstanceOf(AgentUnavailableException.class)
        .hasMessageContaining("not issued for " + NAME);
    assertThat(authorizations).isEmpty();
  }

  @Test
  void neverSpeaksPlainHttp() throws Exception {
    replaceServer(null);
    assertThatThrownBy(() -> agents.submit("gpu-1", checkpoint()))
        .isInstanceOf(AgentUnavailableException.class);
    assertThat(authorizations).isEmpty();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static OperationRequest checkpoint() {
    return OperationRequest.checkpoint(
        "gck-1",
        CheckpointRequest.builder(ProcessTarget.ofContainer("cid"), "ml.ck", 60)
            .labels(Map.of())
            .build());
  }

  @Test
  void callsTheNodesAgentWithTheProjectedToken() throws Exception {
    assertThat(agents.hasAgent("gpu-1")).isTrue();
    OperationStatus s = agents.submit("gpu-1", checkpoint());
    assertThat(s.id()).isEqualTo("op-1");
    assertThat(s.idempotencyKey()).isEqualTo("gck-1");
    assertThat(agents.get("gpu-1", "op-1"))
        .hasValueSatisfying(o -> assertThat(o.step()).isEqualTo("dump"));
    assertThat(agents.get("gpu-1", "op-gone")).isEmpty();
    assertThat(authorizations).hasSize(3).containsOnly("Bearer projected-token");
    assertThat(protocols).as("the protocol version on every call").hasSize(3).containsOnly("1");
  }

  @Test
  void readsTheNodesImageStoreUsage() throws Exception {
    assertThat(agents.storeUsage("gpu-1"))
        .contains(new StoreUsage("gpu-1", 1000L << 30, 12L << 30, 900L << 30));
    assertThat(authorizations).containsExactly("Bearer projected-token");
    storeStatus = 404; // an agent older than GET /v1/store
    assertThat(agents.storeUsage("gpu-1")).isEmpty();
    storeStatus = 503;
    assertThatThrownBy(() -> agents.storeUsage("gpu-1"))
        .isInstanceOfSatisfying(
            AgentUnavailableException.class,
            e -> assertThat(e.reason()).isEqualTo(ConditionReason.AgentUnreachable))
        .hasMessageContaining("HTTP 503");
  }

  @Test
  void answersMapToRejectedUnreachableOrNoAgent() {
    submitStatus = 409;
    assertThatThrownBy(() -> agents.submit("gpu-1", checkpoint()))
        .isInstanceOf(AgentRejectedException.class)
        .hasMessageContaining("refused");
    submitStatus = 500;
    assertThatThrownBy(() -> agents.submit("gpu-1", checkpoint()))
        .isInstanceOfSatisfying(
            AgentUnavailableException.class,
            e -> assertThat(e.reason()).isEqualTo(ConditionReason.AgentUnreachable))
        .hasMessageContaining("HTTP 500");
    assertThat(agents.hasAgent("gpu-2")).isFalse();
    assertThatThrownBy(() -> agents.submit("gpu-2", checkpoint()))
        .isInstanceOfSatisfying(
            AgentUnavailableException.class,
            e -> assertThat(e.reason()).isEqualTo(ConditionReason.NoAgentOnNode));
    server.stop(0);
    assertThatThrownBy(() -> agents.get("gpu-1", "op-1"))
        .isInstanceOfSatisfying(
            AgentUnavailableException.class,
            e -> assertThat(e.reason()).isEqualTo(ConditionReason.AgentUnreachable));
  }

  /** Test settings with the stand-in's port and token file. */
  private record Port(int port, Path token, Path ca, String serverName) implements OperatorConfig {
    private static final TestConfig BASE = new TestConfig();

    public String agentNamespace() {
      return BASE.agentNamespace();
    }

    public String agentSelector() {
      return BASE.agentSelector();
    }

    public int agentPort() {
      return port;
    }

    public Path agentTokenPath() {
      return token;
    }

    public Path agentCaPath() {
      return ca;
    }

    public String agentServerName() {
      return serverName;
    }

    public Duration pollInterval() {
      return BASE.pollInterval();
    }

    public int maxAttempts() {
      return BASE.maxAttempts();
    }

    public Duration retryBackoff() {
      return BASE.retryBackoff();
    }

    public String placeholderImage() {
      return BASE.placeholderImage();
    }

    public Duration placeholderTimeout() {
      return BASE.placeholderTimeout();
    }
  }
}
