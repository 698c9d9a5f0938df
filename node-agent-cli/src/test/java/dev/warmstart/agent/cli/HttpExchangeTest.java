package dev.warmstart.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The CLI's HTTP/1.1 over the agent's Unix socket, byte for byte; the whole path against the real
 * agent is AgentImageRootfsIT's (e2e).
 */
class HttpExchangeTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aRequestAsksToCloseAndCarriesItsBodyLength() {
    String req =
        new String(
            HttpExchange.request("POST", "/v1/operations", "{\"kind\":\"é\"}"),
            StandardCharsets.UTF_8);
    assertThat(req)
        .startsWith("POST /v1/operations HTTP/1.1\r\n")
        .contains("Host: localhost\r\n", "Connection: close\r\n")
        .contains("Content-Type: application/json\r\n", "Content-Length: 13\r\n")
        .endsWith("\r\n\r\n{\"kind\":\"é\"}");
    assertThat(new String(HttpExchange.request("GET", "/v1/operations/x", null)))
        .doesNotContain("Content-Length")
        .endsWith("\r\n\r\n");
  }

  @Test
  void aBodyFramedByContentLengthOrChunksOrTheEndOfTheStream() {
    assertThat(
            HttpExchange.parse(
                bytes("HTTP/1.1 202 Accepted\r\ncontent-length: 7\r\n\r\n{\"a\":1}trailing")))
        .isEqualTo(new HttpExchange.Answer(202, "{\"a\":1}"));
    assertThat(
            HttpExchange.parse(
                bytes(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n")))
        .isEqualTo(new HttpExchange.Answer(200, "{\"a\":1}"));
    assertThat(HttpExchange.parse(bytes("HTTP/1.1 404 Not Found\r\n\r\n{}")))
        .isEqualTo(new HttpExchange.Answer(404, "{}"));
  }

  @Test
  void aCutOrForeignAnswerIsAnErrorNotAnEmptyBody() {
    assertThatThrownBy(() -> HttpExchange.parse(bytes("HTTP/1.1 200 OK\r\nContent-Le")))
        .hasMessageContaining("inside its headers");
    assertThatThrownBy(
            () -> HttpExchange.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}")))
        .hasMessageContaining("inside its body");
    assertThatThrownBy(
            () ->
                HttpExchange.parse(
                    bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{}")))
        .hasMessageContaining("inside a chunk");
    assertThatThrownBy(() -> HttpExchange.parse(bytes("SSH-2.0-OpenSSH\r\n\r\n")))
        .hasMessageContaining("not an HTTP answer");
  }
}
