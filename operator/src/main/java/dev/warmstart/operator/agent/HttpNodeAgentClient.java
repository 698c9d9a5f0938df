package dev.warmstart.operator.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.AgentProtocol;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.StoreUsage;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.status.ConditionReason;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * The agents' HTTPS API, called with the operator's projected ServiceAccount token for the agents'
 * audience (the agents accept no one else). Only an agent whose certificate the agents' CA signed
 * for the agents' server name gets the token ({@link AgentTls}); plain HTTP is never spoken.
 */
@ApplicationScoped
public class HttpNodeAgentClient implements NodeAgentClient {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private final AgentDirectory directory;
  private final OperatorConfig config;
  private final ObjectMapper json;
  private HttpClient http;
  private byte[] httpCa;

  public HttpNodeAgentClient(AgentDirectory directory, OperatorConfig config, ObjectMapper json) {
    this.directory = directory;
    this.config = config;
    this.json = json;
  }

  @Override
  public OperationStatus submit(String nodeName, OperationRequest request)
      throws AgentUnavailableException, AgentRejectedException {
    URI uri = directory.baseUri(nodeName).resolve(AgentProtocol.PATH_PREFIX + "/operations");
    try {
      HttpRequest req =
          authorized(HttpRequest.newBuilder(uri))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(request)))
              .build();
      HttpResponse<byte[]> r = http().send(req, HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 400 || r.statusCode() == 409) {
        throw new AgentRejectedException("the agent on node " + nodeName + " refused: " + text(r));
      }
      if (r.statusCode() / 100 != 2) {
        throw unreachable(nodeName, "answered HTTP " + r.statusCode() + ": " + text(r), null);
      }
      return json.readValue(r.body(), OperationStatus.class);
    } catch (IOException e) {
      throw unreachable(nodeName, e.toString(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unreachable(nodeName, "interrupted", e);
    }
  }

  @Override
  public Optional<OperationStatus> get(String nodeName, String operationId)
      throws AgentUnavailableException {
    return getJson(
        nodeName, AgentProtocol.PATH_PREFIX + "/operations/" + operationId, OperationStatus.class);
  }

  @Override
  public Optional<StoreUsage> storeUsage(String nodeName) throws AgentUnavailableException {
    return getJson(nodeName, AgentProtocol.PATH_PREFIX + "/store", StoreUsage.class);
  }

  /** A GET answered with JSON; empty on 404, unreachable on any other failure. */
  private <T> Optional<T> getJson(String nodeName, String path, Class<T> type)
      throws AgentUnavailableException {
    URI uri = directory.baseUri(nodeName).resolve(path);
    try {
      HttpResponse<byte[]> r =
          http()
              .send(
                  authorized(HttpRequest.newBuilder(uri)).GET().build(),
                  HttpResponse.BodyHandlers.ofByteArray());
      if (r.statusCode() == 404) {
        return Optional.empty();
      }
      if (r.statusCode() / 100 != 2) {
        throw unreachable(nodeName, "answered HTTP " + r.statusCode() + ": " + text(r), null);
      }
      return Optional.of(json.readValue(r.body(), type));
    } catch (IOException e) {
      throw unreachable(nodeName, e.toString(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unreachable(nodeName, "interrupted", e);
    }
  }

  @Override
  public boolean hasAgent(String nodeName) {
    return directory.agentOn(nodeName).isPresent();
  }

  /**
   * The client trusting the agents' CA as the file has it now: re-read on every call, like the
   * token, so a rotated CA (cert-manager) is picked up without a restart.
   */
  private synchronized HttpClient http() throws IOException {
    byte[] ca = Files.readAllBytes(config.agentCaPath());
    if (http == null || !Arrays.equals(ca, httpCa)) {
      try {
        http =
            HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5))
                .sslContext(AgentTls.context(ca, config.agentServerName()))
                .build();
      } catch (GeneralSecurityException e) {
        throw new IOException("the agents' CA " + config.agentCaPath() + " is not usable: " + e, e);
      }
      httpCa = ca;
    }
    return http;
  }

  /**
   * With the token, and the protocol version the agent checks (a mismatch is a 400 naming both).
   */
  private HttpRequest.Builder authorized(HttpRequest.Builder b) throws IOException {
    String token = Files.readString(config.agentTokenPath()).strip();
    return b.timeout(TIMEOUT)
        .header("Authorization", "Bearer " + token)
        .header(AgentProtocol.HEADER, Integer.toString(AgentProtocol.VERSION));
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  private static AgentUnavailableException unreachable(String node, String why, Throwable cause) {
    return new AgentUnavailableException(
        ConditionReason.AgentUnreachable, "the agent on node " + node + " " + why, cause);
  }
}
