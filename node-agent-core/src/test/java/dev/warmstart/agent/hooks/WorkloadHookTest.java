package dev.warmstart.agent.hooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.HttpHook;
import dev.warmstart.api.agent.HttpMethod;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A hook against servers in this JVM that misbehave: what goes out is one clean request line, what
 * comes back is read up to a bound, and only the workload's own port is reachable (these tests run
 * on the machine's network, as a hostNetwork workload would). Joining a network namespace needs
 * root, as the agent runs.
 */
class WorkloadHookTest {
  private ServerSocket server;
  private final AtomicInteger connections = new AtomicInteger();
  private volatile String firstRequestLine;
  private Process other;

  @BeforeEach
  void root() throws IOException {
    assumeTrue("root".equals(System.getProperty("user.name")), "setns needs root");
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (other != null) {
      other.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  /** Serves each connection with {@code answer} on a thread. */
  private void serve(Answer answer) {
    Thread t =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                  connections.incrementAndGet();
                  byte[] head = new byte[4096];
                  int n = s.getInputStream().read(head);
                  String req = new String(head, 0, Math.max(n, 0), StandardCharsets.US_ASCII);
                  firstRequestLine = req.lines().findFirst().orElse("");
                  answer.write(s.getOutputStream());
                } catch (IOException closed) {
                  return;
                }
              }
            });
    t.setDaemon(true);
    t.start();
  }

  interface Answer {
    void write(OutputStream out) throws IOException;
  }

  private HttpHook hook(String path) {
    return new HttpHook(HttpMethod.POST, path, server.getLocalPort(), 5);
  }

  private static int self() {
    return (int) ProcessHandle.current().pid();
  }

  @Test
  void theWorkloadsOwnPortAnswers() throws Exception {
    serve(out -> out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes()));
    new WorkloadHook().call(self(), hook("/sleep?level=1"), "pre-checkpoint");
    assertThat(firstRequestLine).isEqualTo("POST /sleep?level=1 HTTP/1.1");
  }

  @Test
  void aPathWithCrLfIsRefusedBeforeAnythingIsSent() {
    serve(out -> out.write("HTTP/1.1 204 No Content\r\n\r\n".getBytes()));
    String smuggling = "/ok HTTP/1.1\r\nHost: x\r\n\r\nDELETE /admin";
    assertThatThrownBy(() -> new WorkloadHook().call(self(), hook(smuggling), "pre-checkpoint"))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.InvalidRequest))
        .hasMessageContaining("\\u000d\\u000a")
        .hasMessageContaining("is not valid");
    assertThat(connections.get()).isZero();
  }

  @Test
  void anEndlessStatusLineIsCutAtTheBound() throws Exception {
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'A');
    serve(
        out -> {
          out.write("HTTP/1.1 200 ".getBytes());
          for (int i = 0; i < 16 * 1024; i++) { // up to 1 GiB unless the agent stops reading
            out.write(chunk);
          }
        });
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> new WorkloadHook().call(self(), hook("/x"), "pre-checkpoint"))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.HookFailed))
        .hasMessageContaining("status line is longer than 1024 bytes");
    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(5);
  }

  @Test
  void aHostNetworkWorkloadCannotReachAnotherProcesssPort() throws Exception {
    // The listener is this JVM's; the workload is a sleep that listens on nothing.
    serve(out -> out.write("HTTP/1.1 200 OK\r\n\r\nsecret from another service".getBytes()));
    other = new ProcessBuilder("sleep", "60").start();
    assertThatThrownBy(
            () -> new WorkloadHook().call((int) other.pid(), hook("/"), "pre-checkpoint"))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.InvalidRequest))
        .hasMessageContaining(
            "port " + server.getLocalPort() + " is not one the workload's own processes");
    assertThat(connections.get()).as("nothing was sent").isZero();
  }

  @Test
  void aStatusLineIsReadUpToItsEndAndNoFurther() throws IOException {
    InputStream in =
        new ByteArrayInputStream("HTTP/1.1 503 Busy\r\nX-Body: secret\r\n\r\nbody".getBytes());
    assertThat(WorkloadHook.statusLine(in)).isEqualTo("HTTP/1.1 503 Busy");
    assertThat(new String(in.readAllBytes())).startsWith("X-Body");
  }
}
