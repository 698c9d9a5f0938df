package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Talks to a running node agent over its root-only Unix socket, so CLI work goes through the
 * agent's journal and idempotency like the operator's. The JDK's HTTP client cannot dial a Unix
 * socket, so this sends one HTTP/1.1 request per connection ({@link HttpExchange}) over the JDK's
 * own Unix-domain {@link SocketChannel}: the CLI needs no Vert.x or Netty for a few small calls.
 */
final class AgentSocketClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 60;
  private final Path socketPath;

  AgentSocketClient(Path socketPath) {
    this.socketPath = socketPath;
  }

  OperationStatus submit(OperationRequest request) throws Exception {
    return status(call("POST", "/v1/operations", JSON.writeValueAsString(request)));
  }

  OperationStatus get(String id) throws Exception {
    return status(call("GET", "/v1/operations/" + id, null));
  }

  HttpExchange.Answer call(String method, String uri, String body) throws CliFailure {
    byte[] request = HttpExchange.request(method, uri, body);
    SocketChannel channel;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    } catch (IOException e) {
      throw unavailable(e.getMessage());
    }
    // A blocking channel has no read timeout: the wait is bounded here, and closing the channel
    // wakes the blocked read.
    CompletableFuture<HttpExchange.Answer> answer =
        CompletableFuture.supplyAsync(() -> exchange(channel, request));
    try (channel) {
      return answer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause =
          e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
      throw unavailable(cause.getMessage());
    } catch (TimeoutException e) {
      throw new CliFailure(
          "AgentUnavailable",
          ExitCodes.FAILED,
          "the node agent at " + socketPath + " did not answer within " + TIMEOUT_SECONDS + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable("interrupted");
    } catch (IOException e) {
      throw unavailable(e.getMessage());
    }
  }

  private HttpExchange.Answer exchange(SocketChannel channel, byte[] request) {
    try {
      channel.connect(UnixDomainSocketAddress.of(socketPath));
      ByteBuffer out = ByteBuffer.wrap(request);
      while (out.hasRemaining()) {
        channel.write(out);
      }
      // The request said "Connection: close": the answer ends where the stream does.
      return HttpExchange.parse(Channels.newInputStream(channel).readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private CliFailure unavailable(String why) {
    return new CliFailure(
        "AgentUnavailable",
        ExitCodes.FAILED,
        "the node agent at " + socketPath + " did not answer: " + why);
  }

  private static OperationStatus status(HttpExchange.Answer a) throws Exception {
    if (a.status() >= 400) {
      var err = JSON.readTree(a.body());
      throw new IllegalArgumentException(
          err.path("reason").asText("Error") + ": " + err.path("message").asText(a.body()));
    }
    return JSON.readValue(a.body(), OperationStatus.class);
  }

  @Override
  public void close() {
    // One connection per call: nothing stays open between them.
  }
}
