package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.hooks.WorkloadHook;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.HttpHook;
import dev.warmstart.api.agent.HttpMethod;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workload hooks against a real HTTP server that lives in its own network namespace (only its
 * loopback up), as a pod's server does: reachable only from inside that namespace.
 */
class WorkloadHookIT {
  private static final String SERVER =
      """
      import http.server, sys
      class H(http.server.BaseHTTPRequestHandler):
          def do_POST(self):
              code = 500 if self.path == "/broken" else 200
              if code == 200:
                  open(sys.argv[1], "a").write(self.path + "\\n")
              self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
          do_GET = do_POST
          def log_message(self, *a): pass
      http.server.HTTPServer(("127.0.0.1", int(sys.argv[2]) if len(sys.argv) > 2 else 8123), H).serve_forever()
      """;
  @TempDir Path dir;
  private Process server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.descendants().forEach(ProcessHandle::destroyForcibly);
      server.destroyForcibly();
    }
  }

  /** The server's PID (inside unshare's child). */
  private int startServerInOwnNetns() throws Exception {
    Files.writeString(dir.resolve("server.py"), SERVER);
    server =
        new ProcessBuilder(
                "unshare",
                "--net",
                "--fork",
                "sh",
                "-c",
                "busybox ip link set lo up && exec python3 "
                    + dir.resolve("server.py")
                    + " "
                    + dir.resolve("calls.txt"))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("server.log").toFile())
            .start();
    for (int i = 0; i < 250; i++) {
      var child = server.children().findFirst();
      if (child.isPresent() && child.get().info().command().orElse("").contains("python")) {
        Thread.sleep(300); // listening
        return (int) child.get().pid();
      }
      Thread.sleep(20);
    }
    throw new AssertionError(
        "server did not start: " + Files.readString(dir.resolve("server.log")));
  }

  private static HttpHook hook(String path, int port) {
    return new HttpHook(HttpMethod.POST, path, port, 5);
  }

  @Test
  void hookReachesTheServerInsideItsNamespaceAndFailuresSayWhy() throws Exception {
    int pid = startServerInOwnNetns();
    new WorkloadHook().call(pid, hook("/sleep?level=1", 8123), "pre-checkpoint");
    assertThat(Files.readString(dir.resolve("calls.txt"))).isEqualTo("/sleep?level=1\n");

    assertThatThrownBy(() -> new WorkloadHook().call(pid, hook("/broken", 8123), "pre-checkpoint"))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.HookFailed))
        .hasMessageContaining("pre-checkpoint hook POST /broken on port 8123 answered HTTP 500");
    assertThatThrownBy(() -> new WorkloadHook().call(pid, hook("/sleep", 8124), "pre-checkpoint"))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.HookFailed))
        .hasMessageContaining("Connection refused");
  }

  @Test
  void postRestoreHookIsCalledOnTheRestoredServer() throws Exception {
    Files.writeString(dir.resolve("server.py"), SERVER);
    int port = 20000 + (int) (ProcessHandle.current().pid() % 10000);
    server =
        new ProcessBuilder(
                "setsid",
                "python3",
                dir.resolve("server.py").toString(),
                dir.resolve("calls.txt").toString(),
                Integer.toString(port))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("server.log").toFile())
            .start();
    int pid = (int) server.pid();
    for (int i = 0; ; i++) { // until it listens
      try {
        new WorkloadHook().call(pid, hook("/ready", port), "probe");
        break;
      } catch (OperationFailure notYet) {
        if (i > 100) {
          throw notYet;
        }
        Thread.sleep(50);
      }
    }
    AgentComponents agent = TestEnv.components(dir.resolve("store"));
    agent
        .checkpoints()
        .checkpoint(
            CheckpointCommand.of(ProcessTarget.ofPid(pid), "served", Duration.ofMinutes(1)).build(),
            Progress.NONE);
    server.waitFor();
    Workload.awaitGone(pid);

    var r =
        agent
            .restores()
            .restore(
                dev.warmstart.agent.restore.RestoreCommand.of("served", Duration.ofMinutes(1))
                    .postRestoreHook(hook("/wake", port))
                    .build(),
                Progress.NONE);
    try {
      assertThat(r.timings()).containsKey("postRestoreHook");
      assertThat(Files.readString(dir.resolve("calls.txt"))).isEqualTo("/ready\n/wake\n");
    } finally {
      Workload.kill(r.pid());
    }
  }

  @Test
  void aFailingPreCheckpointHookTakesNoCheckpointAndLeavesTheWorkloadRunning() throws Exception {
    int pid = startServerInOwnNetns();
    AgentComponents agent = TestEnv.components(dir.resolve("store"));
    assertThatThrownBy(
            () ->
                agent
                    .checkpoints()
                    .checkpoint(
                        CheckpointCommand.of(
                                ProcessTarget.ofPid(pid), "hooked", Duration.ofMinutes(1))
                            .leaveRunning(true)
                            .preCheckpointHook(hook("/broken", 8123))
                            .build(),
                        Progress.NONE))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.HookFailed));
    assertThat(agent.store().list()).isEmpty();
    assertThat(ProcessHandle.of(pid)).isPresent();
  }
}
