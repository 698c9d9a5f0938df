package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.AgentProtocol;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Transport;

/**
 * Talks to a running node agent over its root-only Unix socket, so CLI work goes through the
 * agent's journal and idempotency like the operator's. The JDK's HTTP client cannot dial a Unix
 * socket; Jetty's can, over the JDK's own Unix-domain channels.
 */
final class AgentSocketClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 60;
  private final Path socketPath;
  private final HttpClient http = new HttpClient();

  AgentSocketClient(Path socketPath) {
    this.socketPath = socketPath;
  }

  /** An answer: HTTP status and body. */
  record Answer(int status, String body) {}

  OperationStatus submit(OperationRequest request) throws Exception {
    return status(call("POST", "/v1/operations", JSON.writeValueAsString(request)));
  }

  OperationStatus get(String id) throws Exception {
    return status(call("GET", "/v1/operations/" + id, null));
  }

  Answer call(String method, String uri, String body) throws CliFailure {
    try {
      if (!http.isStarted()) {
        http.start();
      }
      Request request =
          http.newRequest("http://localhost" + uri)
              .transport(new Transport.TCPUnix(socketPath))
              .method(method)
              .headers(
                  h ->
                      h.put(HttpHeader.ACCEPT, "application/json")
                          .put(AgentProtocol.HEADER, Integer.toString(AgentProtocol.VERSION)))
              .timeout(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (body != null) {
        request.body(new StringRequestContent("application/json", body));
      }
      ContentResponse r = request.send();
      return new Answer(r.getStatus(), r.getContentAsString());
    } catch (TimeoutException e) {
      throw new CliFailure(
          "AgentUnavailable",
          ExitCodes.FAILED,
          "the node agent at " + socketPath + " did not answer within " + TIMEOUT_SECONDS + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable("interrupted");
    } catch (ExecutionException e) {
      throw unavailable(e.getCause().getMessage());
    } catch (Exception e) {
      throw unavailable(e.getMessage());
    }
  }

  private CliFailure unavailable(String why) {
    return new CliFailure(
        "AgentUnavailable",
        ExitCodes.FAILED,
        "the node agent at " + socketPath + " did not answer: " + why);
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
    try {
      http.stop();
    } catch (Exception e) {
      // Stopping frees the client's threads; the CLI exits right after anyway.
    }
  }
}
