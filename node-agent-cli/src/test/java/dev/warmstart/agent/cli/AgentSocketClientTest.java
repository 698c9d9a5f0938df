package dev.warmstart.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's client over a Unix socket. A stand-in server answers one request with canned bytes
 * (what the agent's HTTP server sends); the whole path against the real agent is
 * AgentImageRootfsIT's (e2e).
 */
class AgentSocketClientTest {
  @TempDir Path dir;

  /** Serves one connection on {@code socket}: records the request, answers {@code response}. */
  CompletableFuture<String> serveOnce(Path socket, String response) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    return CompletableFuture.supplyAsync(
        () -> {
          try (server;
              SocketChannel c = server.accept()) {
            StringBuilder seen = new StringBuilder();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (!complete(seen)) {
              buf.clear();
              if (c.read(buf) < 0) {
                break;
              }
              seen.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            }
            c.write(ByteBuffer.wrap(response.getBytes(StandardCharsets.UTF_8)));
            return seen.toString();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  private static boolean complete(CharSequence request) {
    String s = request.toString();
    int end = s.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    var m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(s);
    return !m.find() || s.length() - end - 4 >= Integer.parseInt(m.group(1));
  }

  @Test
  void aSubmittedOperationIsPostedAsJsonAndItsChunkedAnswerRead() throws Exception {
    Path socket = dir.resolve("agent.sock");
    String body = "{\"id\":\"op-1\",\"state\":\"RUNNING\"}";
    CompletableFuture<String> request =
        serveOnce(
            socket,
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(10)
                + "\r\n"
                + body.substring(0, 10)
                + "\r\n"
                + Integer.toHexString(body.length() - 10)
                + "\r\n"
                + body.substring(10)
                + "\r\n0\r\n\r\n");
    try (AgentSocketClient client = new AgentSocketClient(socket)) {
      OperationStatus s =
          client.submit(
              dev.warmstart.api.agent.OperationRequest.activate(
                  "key-1",
                  new dev.warmstart.api.agent.ActivateRequest("op-0", java.util.List.of(), 30)));
      assertThat(s.id()).isEqualTo("op-1");
      assertThat(s.state()).isEqualTo(OperationState.RUNNING);
    }
    assertThat(request.get(10, TimeUnit.SECONDS))
        .startsWith("POST /v1/operations HTTP/1.1\r\n")
        .containsIgnoringCase("content-type: application/json")
        .containsIgnoringCase("Warmstart-Agent-Protocol: 1")
        .contains("\"idempotencyKey\":\"key-1\"");
  }

  @Test
  void anErrorAnswerBecomesItsReasonAndMessage() throws Exception {
    Path socket = dir.resolve("agent.sock");
    String body = "{\"reason\":\"ImageNotFound\",\"message\":\"no image 'x'\"}";
    serveOnce(
        socket,
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length()
            + "\r\n\r\n"
            + body);
    try (AgentSocketClient client = new AgentSocketClient(socket)) {
      assertThatThrownBy(() -> client.get("op-9"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("ImageNotFound: no image 'x'");
    }
  }

  @Test
  void noAgentListeningIsAgentUnavailable() {
    try (AgentSocketClient client = new AgentSocketClient(dir.resolve("none.sock"))) {
      assertThatThrownBy(() -> client.get("op-1"))
          .isInstanceOfSatisfying(
              CliFailure.class, f -> assertThat(f.reason()).isEqualTo("AgentUnavailable"))
          .hasMessageContaining("none.sock did not answer");
    }
  }
}
