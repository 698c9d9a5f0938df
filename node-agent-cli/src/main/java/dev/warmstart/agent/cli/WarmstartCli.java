package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.GpuSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code warmstart}: checkpoint and restore processes and containers on this machine, no cluster.
 */
@Command(
    name = "warmstart",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "Checkpoint and restore process trees and containers with CRIU.",
    footer = {
      "",
      "Global options (--store, --criu, --plugin-dir, --agent-socket) go before the command;",
      "--json goes before or after it. `warmstart help COMMAND` or `COMMAND --help` describes one.",
      "Exit codes: 0 ok, 1 failed, 2 bad input, 3 not found, 4 image integrity failure,",
      "5 PID still in use, 6 timeout, 7 conflict (the image exists, the demo's port is taken)."
    },
    subcommands = {
      CheckpointStep.class,
      RestoreStep.class,
      ActivateStep.class,
      GpusStep.class,
      ListStep.class,
      InspectStep.class,
      DeleteStep.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class
    })
public final class WarmstartCli {
  static final String VERSION = "warmstart 0.1.0";

  @Option(names = "--store", description = "Image store directory (env WARMSTART_STORE).")
  Path store;

  @Option(names = "--criu", description = "criu executable (env WARMSTART_CRIU).")
  Path criu;

  @Option(
      names = "--plugin-dir",
      description = "Folder of CRIU plugins (env WARMSTART_PLUGIN_DIR).")
  Path pluginDir;

  @Option(
      names = "--json",
      description = "Machine-readable output.",
      scope = CommandLine.ScopeType.INHERIT)
  boolean json;

  @Option(
      names = "--agent-socket",
      description =
          "Send checkpoint/restore/activate to a running node agent over its Unix socket (env"
              + " WARMSTART_AGENT_SOCKET).")
  Path agentSocket;

  Optional<Path> agentSocket() {
    return Optional.ofNullable(agentSocket)
        .or(() -> Optional.ofNullable(System.getenv("WARMSTART_AGENT_SOCKET")).map(Path::of));
  }

  /** The agent's socket, which must exist: a typo must not look like an internal error. */
  Path requireAgentSocket() throws CliFailure {
    Path socket = agentSocket().orElseThrow();
    if (!java.nio.file.Files.exists(socket)) {
      throw new CliFailure(
          "AgentUnavailable",
          ExitCodes.USAGE,
          "no agent socket at "
              + socket
              + ": is the node agent running there? (or leave out --agent-socket to work"
              + " locally)");
    }
    return socket;
  }

  AgentComponents components() throws IOException {
    Path s = store != null ? store : Path.of(env("WARMSTART_STORE", "/var/lib/warmstart/images"));
    Path c = criu != null ? criu : Path.of(env("WARMSTART_CRIU", "criu"));
    Optional<Path> p =
        Optional.ofNullable(pluginDir)
            .or(() -> Optional.ofNullable(System.getenv("WARMSTART_PLUGIN_DIR")).map(Path::of));
    String node = env("HOSTNAME", "localhost");
    return AgentComponents.create(
        AgentComponents.Settings.builder(s, c, node).pluginDir(p).build(),
        Clock.systemUTC(),
        GpuRuntime.detect(gpuSettings()));
  }

  /** The CLI holds no warm pool: it lives for one command (the agent holds one). */
  static GpuSettings gpuSettings() {
    return new GpuSettings(
        !"off".equals(env("WARMSTART_GPU", "on")),
        Optional.ofNullable(System.getenv("WARMSTART_LIBCUDA")),
        Optional.ofNullable(System.getenv("WARMSTART_NVML")),
        false,
        List.of());
  }

  Output output() {
    return new Output(json, System.out, System.err);
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    return new CommandLine(new WarmstartCli()).execute(args);
  }
}
