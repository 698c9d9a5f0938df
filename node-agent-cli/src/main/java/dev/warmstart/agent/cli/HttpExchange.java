package dev.warmstart.agent.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * One HTTP/1.1 request and its answer as bytes, for {@link AgentSocketClient}: the request asks the
 * agent to close the connection after answering, so the answer is everything read until then; its
 * body is framed by Content-Length or chunked, as HTTP/1.1 allows.
 */
final class HttpExchange {
  private HttpExchange() {}

  /** The answer: HTTP status and body. */
  record Answer(int status, String body) {}

  static byte[] request(String method, String uri, String body) {
    byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    String head =
        method
            + " "
            + uri
            + " HTTP/1.1\r\n"
            + "Host: localhost\r\n"
            + "Connection: close\r\n"
            + "Accept: application/json\r\n"
            + (body == null
                ? ""
                : "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n")
            + "\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[h.length + content.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(content, 0, all, h.length, content.length);
    return all;
  }

  static Answer parse(byte[] response) {
    int end = indexOf(response, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0);
    if (end < 0) {
      throw new IllegalStateException("the agent's answer ended inside its headers");
    }
    String[] lines = new String(response, 0, end, StandardCharsets.US_ASCII).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
      throw new IllegalStateException("not an HTTP answer: " + lines[0]);
    }
    int status = Integer.parseInt(statusLine[1]);
    boolean chunked = false;
    int length = -1;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      if (name.equals("transfer-encoding")) {
        chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
      } else if (name.equals("content-length")) {
        length = Integer.parseInt(value);
      }
    }
    int start = end + 4;
    byte[] body;
    if (chunked) {
      body = dechunk(response, start);
    } else if (length >= 0) {
      if (start + length > response.length) {
        throw new IllegalStateException("the agent's answer ended inside its body");
      }
      body = Arrays.copyOfRange(response, start, start + length);
    } else {
      body = Arrays.copyOfRange(response, start, response.length);
    }
    return new Answer(status, new String(body, StandardCharsets.UTF_8));
  }

  private static byte[] dechunk(byte[] in, int pos) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] crlf = "\r\n".getBytes(StandardCharsets.US_ASCII);
    while (true) {
      int eol = indexOf(in, crlf, pos);
      if (eol < 0) {
        throw new IllegalStateException("the agent's answer ended inside a chunk header");
      }
      String size = new String(in, pos, eol - pos, StandardCharsets.US_ASCII);
      int semicolon = size.indexOf(';'); // chunk extensions carry nothing for us
      int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
      if (n == 0) {
        return out.toByteArray();
      }
      if (eol + 2 + n > in.length) {
        throw new IllegalStateException("the agent's answer ended inside a chunk");
      }
      out.write(in, eol + 2, n);
      pos = eol + 2 + n + 2;
    }
  }

  private static int indexOf(byte[] in, byte[] what, int from) {
    outer:
    for (int i = from; i <= in.length - what.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (in[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
