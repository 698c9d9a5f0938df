package dev.warmstart.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI's parsing, help and validation, in process: nothing here reaches CRIU. */
class WarmstartCliTest {
  @TempDir Path store;

  record Run(int code, String out, String err) {}

  private Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = WarmstartCli.run(args);
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  private static List<String> commands() {
    return List.copyOf(new CommandLine(new WarmstartCli()).getSubcommands().keySet());
  }

  @Test
  void everyCommandHasHelp() {
    assertThat(commands())
        .contains("checkpoint", "restore", "activate", "gpus", "list", "inspect", "delete", "demo");
    for (String cmd : commands()) {
      for (String flag : List.of("--help", "-h")) {
        Run r = run(cmd, flag);
        assertThat(r.code()).as("%s %s: %s", cmd, flag, r.err()).isZero();
        assertThat(r.out()).as("%s %s", cmd, flag).contains("Usage: warmstart " + cmd);
      }
      Run h = run("help", cmd);
      assertThat(h.code()).as("help %s: %s", cmd, h.err()).isZero();
      assertThat(h.out()).contains("Usage: warmstart " + cmd);
    }
    Run top = run("help");
    assertThat(top.code()).isZero();
    assertThat(top.out()).contains("Usage: warmstart", "checkpoint", "Exit codes:");
    assertThat(run("--help").out()).contains("Global options");
  }

  @Test
  void versionIsShown() {
    Run r = run("--version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("warmstart 0.1.0");
    assertThat(run("list", "--version").out()).contains("warmstart 0.1.0");
  }

  @Test
  void timeoutsOutsideOneToADayAreBadInput() {
    for (String t : List.of("0", "-1", "86401", "soon")) {
      Run ck =
          run(
              "--store",
              store.toString(),
              "checkpoint",
              "--pid",
              "1",
              "--name",
              "x",
              "--timeout",
              t);
      assertThat(ck.code()).as("checkpoint --timeout %s: %s", t, ck.err()).isEqualTo(2);
      assertThat(ck.err()).contains("--timeout");
      Run rs = run("--store", store.toString(), "restore", "x", "--timeout", t);
      assertThat(rs.code()).as("restore --timeout %s", t).isEqualTo(2);
      Run ac = run("--store", store.toString(), "activate", "--pid", "1", "--timeout", t);
      assertThat(ac.code()).as("activate --timeout %s", t).isEqualTo(2);
    }
  }

  @Test
  void anUnknownStageIsBadInputNamingTheStages() {
    Run r = run("--store", store.toString(), "restore", "x", "--stage", "hot");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("unknown restore stage 'hot'", "processes, gpu-locked, running");
    Run old = run("--store", store.toString(), "restore", "x", "--prepare");
    assertThat(old.code()).as("one spelling: --prepare is gone").isEqualTo(2);
  }

  @Test
  void anImageOfAnotherManifestFormatIsNamedBrokenWithTheFormat() throws Exception {
    Path images = store.resolve("images");
    Files.createDirectories(images.resolve("future"));
    Files.writeString(
        images.resolve("future/manifest.json"),
        """
        {"formatVersion": 2, "name": "future", "files": [], "sizeBytes": 0}
        """);
    Run list = run("--store", images.toString(), "list");
    assertThat(list.code()).as(list.err()).isZero();
    assertThat(list.out()).contains("future", "manifest format version 2", "reads (1)");
    Run restore = run("--store", images.toString(), "restore", "future");
    assertThat(restore.code()).isNotZero();
    assertThat(restore.err()).contains("manifest format version 2");
  }

  @Test
  void aMissingAgentSocketIsNamedNotAnInternalError() throws Exception {
    Path missing = store.resolve("no/agent.sock");
    Run r =
        run(
            "--agent-socket",
            missing.toString(),
            "--store",
            store.toString(),
            "checkpoint",
            "--pid",
            "1",
            "--name",
            "x");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("AgentUnavailable", missing.toString()).doesNotContain("Internal");

    // A path that exists but where no agent listens (a plain file: connection refused).
    Path notASocket = Files.createFile(store.resolve("stale.sock"));
    Run refused =
        run("--agent-socket", notASocket.toString(), "--store", store.toString(), "restore", "x");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err())
        .contains("AgentUnavailable", "did not answer")
        .doesNotContain("Internal");
  }

  @Test
  void listShowsBrokenImagesWithTheReasonAndTheStoreUsage() throws Exception {
    Path images = store.resolve("images");
    Files.createDirectories(images.resolve("garbled"));
    Files.writeString(images.resolve("garbled/manifest.json"), "{\"name\": ");
    Files.createDirectories(images.resolve("empty"));
    Files.write(images.resolve("empty/pages-1.img"), new byte[4096]);

    Run human = run("--store", images.toString(), "list");
    assertThat(human.code()).as(human.err()).isZero();
    assertThat(human.out())
        .contains("garbled", "BROKEN: manifest.json is not valid")
        .contains("empty", "BROKEN: manifest.json is missing")
        .contains("2 image(s) (2 broken)", "free");

    JsonNode json =
        new ObjectMapper().readTree(run("--store", images.toString(), "list", "--json").out());
    assertThat(json.at("/store/images").asInt()).isEqualTo(2);
    assertThat(json.at("/store/brokenImages").asInt()).isEqualTo(2);
    assertThat(json.at("/store/imageBytes").asLong()).isGreaterThanOrEqualTo(4096);
    assertThat(json.get("images")).hasSize(2);
    assertThat(json.at("/images/0/status").asText()).isEqualTo("broken");
    assertThat(json.at("/images/0/problem").asText()).isEqualTo("manifest.json is missing");

    Run del = run("--store", images.toString(), "delete", "garbled");
    assertThat(del.code()).as(del.err()).isZero();
    assertThat(images.resolve("garbled")).doesNotExist();
  }

  @Test
  void anOlderImagesCommandLineIsShownRedacted() throws Exception {
    // A manifest written before the agent redacted command lines, with a key in its argv.
    Path images = store.resolve("images");
    Files.createDirectories(images.resolve("old"));
    Files.writeString(
        images.resolve("old/manifest.json"),
        """
        {"formatVersion": 1, "name": "old", "createdAt": "2026-11-01T00:00:00Z", "node": "n",
         "criuVersion": "4.2.1",
         "source": {"pid": 7, "processes": [7], "command": "vllm serve --api-key=sk-live-1",
                    "pidNamespace": "host", "externalNet": false, "ownIpcUts": false},
         "files": [], "sizeBytes": 0, "timings": {}, "labels": {}}
        """);
    for (String[] args :
        new String[][] {
          {"--store", images.toString(), "list"},
          {"--store", images.toString(), "inspect", "old"},
          {"--store", images.toString(), "inspect", "old", "--json"}
        }) {
      Run r = run(args);
      assertThat(r.code()).as(String.join(" ", args) + ": " + r.err()).isZero();
      assertThat(r.out())
          .as(String.join(" ", args))
          .contains("vllm serve --api-key=<redacted>")
          .doesNotContain("sk-live-1");
    }
    assertThat(run("--store", images.toString(), "list", "--json").out())
        .contains("\"old\"")
        .doesNotContain("sk-live-1");
  }

  @Test
  void demoRefusesABusyPortAtOnce() throws Exception {
    try (ServerSocket busy = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      long t = System.nanoTime();
      Run r =
          run(
              "--store",
              store.toString(),
              "demo",
              "--port",
              Integer.toString(busy.getLocalPort()),
              "--samples",
              Path.of("../samples").toAbsolutePath().toString());
      assertThat(r.code()).as(r.err()).isEqualTo(7);
      assertThat(r.err())
          .contains("PortInUse", "port " + busy.getLocalPort(), "--port")
          .doesNotContain("Internal");
      assertThat((System.nanoTime() - t) / 1_000_000).as("ms").isLessThan(10_000);
    }
  }
}
