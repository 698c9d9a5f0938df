package dev.warmstart.agent.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A test workload process started as a session leader (CRIU dumps session leaders). */
final class Workload implements AutoCloseable {
  private static final AtomicInteger PORTS =
      new AtomicInteger(19100 + (int) (ProcessHandle.current().pid() % 400) * 2);
  private static final ObjectMapper JSON = new ObjectMapper();
  final Process process;
  final int port;
  final Path log;

  private Workload(List<String> cmd, int port) throws IOException {
    this.port = port;
    this.log = Files.createTempFile("workload", ".log");
    this.process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
  }

  /** tree.py: parent, child over a pipe, threads, TCP listener, {@code mib} MiB of state. */
  static Workload tree(int mib) throws IOException {
    int port = PORTS.incrementAndGet();
    return new Workload(
        List.of(
            "setsid",
            "python3",
            TestEnv.workload("tree.py").toString(),
            Integer.toString(port),
            Integer.toString(mib)),
        port);
  }

  /** A JVM with ~1 GiB of deterministic heap data. */
  static Workload java1GiB() throws IOException {
    int port = PORTS.incrementAndGet();
    String java = ProcessHandle.current().info().command().orElse("java");
    return new Workload(
        List.of(
            "setsid",
            java,
            "-Xms1400m",
            "-Xmx1400m",
            "-XX:+UseSerialGC",
            // No mmapped /tmp/hsperfdata_<user>/<pid>: any JVM starting while this one is
            // checkpointed deletes that file as stale, and CRIU then cannot restore the mapping.
            "-XX:-UsePerfData",
            TestEnv.workload("HeapHolder.java").toString(),
            Integer.toString(port)),
        port);
  }

  int pid() {
    return (int) process.pid();
  }

  JsonNode state(Duration timeout) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
            .timeout(Duration.ofSeconds(20))
            .build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return JSON.readTree(http.send(req, HttpResponse.BodyHandlers.ofString()).body());
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "workload on " + port + " not answering; log: " + Files.readString(log), e);
        }
        Thread.sleep(50);
      }
    }
  }

  /** One line from a plain TCP workload (HeapHolder). */
  String line(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
          BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream()))) {
        return in.readLine();
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "workload on " + port + " not answering; log: " + Files.readString(log), e);
        }
        Thread.sleep(100);
      }
    }
  }

  static void awaitGone(int pid) throws InterruptedException {
    for (int i = 0; i < 500 && ProcessHandle.of(pid).isPresent(); i++) {
      Thread.sleep(20);
    }
  }

  /**
   * Waits until a host restore may take {@code pid} again: a zombie keeps its PID (and /proc entry)
   * until reaped, and a session leader's PID stays taken while any process of its session lives
   * (else CRIU fails PidInUse).
   */
  static void awaitPidFree(int pid) throws IOException, InterruptedException {
    for (int i = 0; i < 300 && (Files.exists(Path.of("/proc/" + pid)) || sessionInUse(pid)); i++) {
      Thread.sleep(50);
    }
  }

  private static boolean sessionInUse(int sid) throws IOException {
    try (var dirs = Files.list(Path.of("/proc"))) {
      return dirs.map(d -> d.getFileName().toString())
          .filter(n -> n.chars().allMatch(Character::isDigit))
          .anyMatch(n -> sessionOf(n) == sid);
    }
  }

  /** Field 6 of /proc/PID/stat, counted after the command's closing parenthesis. */
  private static int sessionOf(String pid) {
    try {
      String st = Files.readString(Path.of("/proc", pid, "stat"));
      return Integer.parseInt(st.substring(st.lastIndexOf(')') + 2).split(" ")[3]);
    } catch (IOException | RuntimeException gone) {
      return -1;
    }
  }

  static void kill(int pid) throws InterruptedException {
    ProcessHandle.of(pid)
        .ifPresent(
            h -> {
              h.descendants().forEach(ProcessHandle::destroyForcibly);
              h.destroyForcibly();
            });
    awaitGone(pid);
  }

  @Override
  public void close() throws Exception {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor();
    Files.deleteIfExists(log);
  }
}
