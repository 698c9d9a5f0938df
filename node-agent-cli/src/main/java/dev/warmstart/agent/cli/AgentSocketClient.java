package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Talks to a running node agent over its root-only Unix socket, so CLI work goes through the
 * agent's journal and idempotency like the operator's.
 */
final class AgentSocketClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
  private final HttpClient http = vertx.createHttpClient();
  private final SocketAddress socket;
  private final Path socketPath;

  AgentSocketClient(Path socketPath) {
    this.socketPath = socketPath;
    this.socket = SocketAddress.domainSocketAddress(socketPath.toAbsolutePath().toString());
  }

  /** The answer: HTTP status and body. */
  record Answer(int status, String body) {}

  OperationStatus submit(OperationRequest request) throws Exception {
    return status(call(HttpMethod.POST, "/v1/operations", JSON.writeValueAsString(request)));
  }

  OperationStatus get(String id) throws Exception {
    return status(call(HttpMethod.GET, "/v1/operations/" + id, null));
  }

  Answer call(HttpMethod method, String uri, String body) throws Exception {
    RequestOptions options =
        new RequestOptions()
            .setServer(socket)
            .setMethod(method)
            .setURI(uri)
            .setHost("localhost")
            .putHeader("Content-Type", "application/json");
    try {
      return http.request(options)
          .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body)))
          .compose(
              (HttpClientResponse r) -> r.body().map(b -> new Answer(r.statusCode(), b.toString())))
          .toCompletionStage()
          .toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new CliFailure(
          "AgentUnavailable",
          ExitCodes.FAILED,
          "the node agent at " + socketPath + " did not answer: " + e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new CliFailure(
          "AgentUnavailable",
          ExitCodes.FAILED,
          "the node agent at " + socketPath + " did not answer within 60 s");
    }
  }

  private static OperationStatus status(Answer a) throws Exception {
    if (a.status() >= 400) {
      var err = JSON.readTree(a.body());
      throw new IllegalArgumentException(
          err.path("reason").asText("Error") + ": " + err.path("message").asText(a.body()));
    }
    return JSON.readValue(a.body(), OperationStatus.class);
  }

  @Override
  public void close() {
    http.close();
    vertx.close();
  }
}
