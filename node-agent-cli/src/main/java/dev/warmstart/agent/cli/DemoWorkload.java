package dev.warmstart.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The demo's sample workload (samples/cpu-workload/stateful_server.py) on 127.0.0.1: started,
 * called over HTTP, and, when it fails, reported with the end of its log.
 */
final class DemoWorkload {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path script;
  private final int port;
  private final int sizeMib;
  private final Path log;

  DemoWorkload(Path script, int port, int sizeMib, Path log) {
    this.script = script;
    this.port = port;
    this.sizeMib = sizeMib;
    this.log = log;
  }

  /** Refuses a port another process holds: it might answer our requests instead. */
  static void requireFreePort(int port) throws CliFailure {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new CliFailure(
          "PortInUse",
          ExitCodes.CONFLICT,
          "port "
              + port
              + " on 127.0.0.1 is in use by another process ("
              + e.getMessage()
              + "): choose a free one with --port");
    }
  }

  Process start() throws IOException {
    return new ProcessBuilder(
            "setsid",
            "python3",
            script.toString(),
            "--port",
            Integer.toString(port),
            "--size-mib",
            Integer.toString(sizeMib))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .start();
  }

  /** A request the workload must answer now; if not, the failure names its kept log. */
  JsonNode call(String method, String path) throws InterruptedException, CliFailure {
    try {
      return send(method, path);
    } catch (IOException e) {
      throw failure(method + " " + path + " failed: " + e.getMessage());
    }
  }

  /**
   * Waits for the workload's first answer while watching that it lives: a workload that dies is
   * reported at once, with the end of its log.
   */
  JsonNode awaitState(BooleanSupplier alive, String what, Process process)
      throws InterruptedException, CliFailure {
    Duration timeout = Duration.ofSeconds(60L + sizeMib / 8);
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!alive.getAsBoolean()) {
        String exit = process != null ? " with code " + process.waitFor() : "";
        throw failure(what + " exited" + exit + " before answering");
      }
      try {
        return send("GET", "/state");
      } catch (IOException e) {
        last = String.valueOf(e.getMessage());
      }
      Thread.sleep(50);
    }
    throw failure(
        what + " did not answer on port " + port + " within " + timeout + " (" + last + ")");
  }

  private JsonNode send(String method, String path) throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build();
    // A client per request: no pooled connection may outlive the checkpointed server's socket.
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(method + " " + path + " answered HTTP " + r.statusCode());
    }
    return JSON.readTree(r.body());
  }

  private CliFailure failure(String message) {
    List<String> lines;
    try {
      lines = Files.readAllLines(log);
    } catch (IOException e) {
      lines = List.of("(log unreadable: " + e.getMessage() + ")");
    }
    List<String> tail = lines.subList(Math.max(0, lines.size() - 15), lines.size());
    return new CliFailure(
        "WorkloadFailed",
        ExitCodes.FAILED,
        message
            + "; its log is kept at "
            + log
            + (tail.isEmpty() ? " (empty)" : " and ends with:\n  " + String.join("\n  ", tail)));
  }
}
