package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent image's content, built here without a Docker engine: scripts/build-agent-rootfs.sh
 * (the script the Dockerfile runs) fills a folder, and the agent runs from it — its own JRE, its
 * own CRIU — and checkpoints and restores a process through its Unix socket.
 */
class AgentImageRootfsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path work;
  private Process agent;
  private Process workload;

  @AfterEach
  void stop() {
    for (Process p : new Process[] {agent, workload}) {
      if (p != null) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }
  }

  private static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", cmd, out).isZero();
    return out;
  }

  /** The CLI's JSON on stdout, and its exit code as {@code /exitCode}. */
  private static JsonNode cli(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(out).as("%s: stderr %s", List.of(cmd), err).isNotBlank();
    return ((ObjectNode) JSON.readTree(out)).put("exitCode", p.exitValue());
  }

  private JsonNode call(Path socket, String method, String path, String body) throws Exception {
    String out =
        run(
            body == null
                ? List.of(
                    "curl",
                    "-sf",
                    "--unix-socket",
                    socket.toString(),
                    "-X",
                    method,
                    "http://agent" + path)
                : List.of(
                    "curl",
                    "-sf",
                    "--unix-socket",
                    socket.toString(),
                    "-X",
                    method,
                    "-H",
                    "Content-Type: application/json",
                    "-d",
                    body,
                    "http://agent" + path));
    return JSON.readTree(out);
  }

  private JsonNode await(Path socket, String id) throws Exception {
    for (int i = 0; i < 600; i++) {
      JsonNode s = call(socket, "GET", "/v1/operations/" + id, null);
      if (s.path("state").asText().matches("SUCCEEDED|FAILED")) {
        return s;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("operation " + id + " did not finish");
  }

  /** The loop's counter; it rewrites the file in place, so a read can fall between two writes. */
  private int count() throws Exception {
    for (int i = 0; i < 50; i++) {
      String s = Files.readString(work.resolve("count")).trim();
      if (!s.isEmpty()) {
        return Integer.parseInt(s);
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the counter file stayed empty");
  }

  @Test
  void agentRunsFromTheImageRootfsWithItsOwnJreAndCriu() throws Exception {
    TestEnv.criu(); // root and a CRIU-capable kernel, as for every real-CRIU test
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is needed");
    Path rootfs = TestEnv.repo().resolve("e2e/target/agent-rootfs");
    run(
        List.of(
            TestEnv.repo().resolve("scripts/build-agent-rootfs.sh").toString(), rootfs.toString()));
    Path opt = rootfs.resolve("opt/warmstart");
    assertThat(opt.resolve("bin/pause")).isExecutable();
    assertThat(opt.resolve("plugins/warmstart_cuda_plugin.so")).exists();
    assertThat(run(List.of(opt.resolve("criu/bin/criu").toString(), "--version"))).contains("4.2");

    Path socket = work.resolve("run/agent.sock");
    ProcessBuilder pb =
        new ProcessBuilder(
                opt.resolve("jre/bin/java").toString(),
                "-jar",
                opt.resolve("quarkus-app/quarkus-run.jar").toString())
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("agent.log").toFile());
    pb.environment().put("WARMSTART_AGENT_CRIU_BINARY", opt.resolve("criu/bin/criu").toString());
    pb.environment().put("WARMSTART_AGENT_PLUGIN_DIR", opt.resolve("plugins").toString());
    pb.environment().put("WARMSTART_AGENT_STORE_ROOT", work.resolve("images").toString());
    pb.environment().put("WARMSTART_AGENT_JOURNAL_DIR", work.resolve("journal").toString());
    pb.environment().put("QUARKUS_HTTP_DOMAIN_SOCKET", socket.toString());
    pb.environment().put("QUARKUS_HTTP_PORT", "0");
    pb.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
    agent = pb.start();
    JsonNode gpus = null;
    for (int i = 0; i < 300 && gpus == null; i++) {
      try {
        gpus = call(socket, "GET", "/v1/gpus", null);
      } catch (AssertionError notYet) {
        assertThat(agent.isAlive()).as(Files.readString(work.resolve("agent.log"))).isTrue();
        Thread.sleep(100);
      }
    }
    assertThat(gpus).as(Files.readString(work.resolve("agent.log"))).isNotNull();
    assertThat(gpus.path("available").asBoolean()).isFalse(); // no GPU here: CPU-only, and says why
    assertThat(gpus.path("unavailableReason").asText()).isNotEmpty();

    // One process, no children: their PIDs must stay free for the restore while curl runs here.
    String loop =
        "import time\ni=0\nwhile True:\n    i+=1\n    open(%s,'w').write(str(i))\n    time.sleep(0.1)\n"
            .formatted("'" + work.resolve("count") + "'");
    workload =
        new ProcessBuilder("setsid", "python3", "-c", loop)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("w.log").toFile())
            .start();
    Thread.sleep(500);
    int pid = (int) workload.pid();
    String ckpt =
        "{\"idempotencyKey\":\"k1\",\"kind\":\"CHECKPOINT\",\"checkpoint\":{\"target\":{\"pid\":"
            + pid
            + "},\"imageName\":\"rootfs-test\",\"leaveRunning\":false,\"timeoutSeconds\":60}}";
    JsonNode done = await(socket, call(socket, "POST", "/v1/operations", ckpt).path("id").asText());
    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    workload.waitFor(10, TimeUnit.SECONDS);
    Workload.awaitGone(pid);
    int before = count();

    String restore =
        "{\"idempotencyKey\":\"k2\",\"kind\":\"RESTORE\",\"restore\":{\"imageName\":\"rootfs-test\",\"timeoutSeconds\":60}}";
    done = await(socket, call(socket, "POST", "/v1/operations", restore).path("id").asText());
    assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
    assertThat(done.path("restoredPid").asInt()).isEqualTo(pid);
    Thread.sleep(500);
    assertThat(count())
        .as("the restored loop counts on from its checkpointed state")
        .isGreaterThan(before);

    // The image's CLI (node-agent-cli on the same JRE) sends work to this agent over its socket,
    // and reads the store on its own.
    String cli = opt.resolve("bin/warmstart").toString();
    String s = socket.toString();
    JsonNode viaCli =
        cli(cli, "--agent-socket", s, "--json", "checkpoint", "--pid", "" + pid, "--name", "cli");
    assertThat(viaCli.path("state").asText()).as(viaCli.toString()).isEqualTo("SUCCEEDED");
    assertThat(viaCli.path("exitCode").asInt()).isZero();
    assertThat(viaCli.at("/image/name").asText()).isEqualTo("cli");
    assertThat(ProcessHandle.of(pid)).as("left running").isPresent();
    JsonNode refused = cli(cli, "--agent-socket", s, "--json", "restore", "nothing-here");
    assertThat(refused.at("/error/reason").asText()).as(refused.toString()).isNotEmpty();
    assertThat(refused.path("exitCode").asInt()).as(refused.toString()).isNotZero();
    JsonNode list = cli(cli, "--store", work.resolve("images").toString(), "--json", "list");
    assertThat(list.findValuesAsText("name")).contains("rootfs-test", "cli");
    assertThat(list.path("exitCode").asInt()).isZero();
    Workload.kill(pid);
  }
}
