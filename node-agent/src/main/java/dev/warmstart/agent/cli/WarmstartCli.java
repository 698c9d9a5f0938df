package dev.warmstart.agent.cli;

import dev.warmstart.agent.activation.ActivateCommand;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.gpu.GpuReport;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.GpuSettings;
import dev.warmstart.agent.gpu.WarmContextPool;
import dev.warmstart.agent.proc.CommandLines;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.ImageEntry;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.ImageNotFoundException;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoreUsage;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.agent.RestoreRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
      WarmstartCli.Checkpoint.class,
      WarmstartCli.Restore.class,
      WarmstartCli.Activate.class,
      WarmstartCli.Gpus.class,
      WarmstartCli.ListImages.class,
      WarmstartCli.Inspect.class,
      WarmstartCli.Delete.class,
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

  /** Runs a step and turns known failures into a message and an exit code. */
  abstract static class Step implements Callable<Integer> {
    @CommandLine.ParentCommand WarmstartCli cli;

    abstract int run(AgentComponents c, Output out) throws Exception;

    @Override
    public Integer call() {
      Output out = cli.output();
      try {
        return run(cli.components(), out);
      } catch (CommandLine.ParameterException e) {
        throw e; // picocli prints it with the usage and exits 2
      } catch (CliFailure e) {
        out.error(e.reason(), e.getMessage());
        return e.exitCode();
      } catch (OperationFailure e) {
        out.error(e.reason().name(), e.getMessage());
        return ExitCodes.of(e.reason());
      } catch (ImageNotFoundException e) {
        out.error("ImageNotFound", e.getMessage());
        return ExitCodes.NOT_FOUND;
      } catch (ImageIntegrityException e) {
        out.error("ImageIntegrityFailed", e.getMessage());
        return ExitCodes.INTEGRITY;
      } catch (IllegalArgumentException e) {
        out.error("InvalidRequest", e.getMessage());
        return ExitCodes.USAGE;
      } catch (Exception e) {
        out.error("Internal", String.valueOf(e));
        return ExitCodes.FAILED;
      }
    }
  }

  static final class TargetOptions {
    @Option(names = "--pid", required = true, description = "Root PID of the tree.")
    Integer pid;

    @Option(names = "--container", required = true, description = "Container id (runc state).")
    String container;

    ProcessTarget target() {
      return pid != null ? ProcessTarget.ofPid(pid) : ProcessTarget.ofContainer(container);
    }
  }

  @Command(
      name = "checkpoint",
      mixinStandardHelpOptions = true,
      version = WarmstartCli.VERSION,
      description = "Checkpoint a process tree or a container into the store.")
  static final class Checkpoint extends Step {
    @ArgGroup(exclusive = true, multiplicity = "1")
    TargetOptions target;

    @Option(names = "--name", required = true, description = "Image name.")
    String name;

    @Option(
        names = "--stop",
        description = "Stop the workload after the capture (default: leave it running).")
    boolean stop;

    @Option(
        names = "--timeout",
        defaultValue = "600",
        converter = Seconds.class,
        description = "Seconds before giving up, 1-86400 (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(
        names = "--replace",
        description =
            "Replace an image of the same name; the old one stays until the new one is complete."
                + " Without it an existing name is refused (exit 7).")
    boolean replace;

    @Override
    int run(AgentComponents c, Output out) throws Exception {
      if (cli.agentSocket().isPresent()) {
        return RemoteOperation.run(
            cli.requireAgentSocket(),
            OperationRequest.checkpoint(
                "cli-" + UUID.randomUUID(),
                new CheckpointRequest(
                    target.target(), name, !stop, timeoutSeconds, null, Map.of(), replace)),
            out);
      }
      StoredImage image =
          c.checkpoints()
              .checkpoint(
                  new CheckpointCommand(
                      target.target(),
                      name,
                      !stop,
                      Duration.ofSeconds(timeoutSeconds),
                      Map.of(),
                      null,
                      replace),
                  out::progress);
      out.result(
          summary(image),
          "checkpointed "
              + image.manifest().source().processes().size()
              + " process(es) into '"
              + name
              + "' ("
              + mib(image.manifest().sizeBytes())
              + ", "
              + image.digest()
              + ")\n"
              + Output.table(image.manifest().timings()));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      version = WarmstartCli.VERSION,
      description = "Restore an image (verified first); the image is kept.")
  static final class Restore extends Step {
    @Parameters(index = "0", description = "Image name.")
    String name;

    @Option(
        names = "--into-container",
        description = "Running placeholder container to restore into.")
    String container;

    @Option(
        names = "--timeout",
        defaultValue = "600",
        converter = Seconds.class,
        description = "Seconds before giving up, 1-86400 (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(
        names = "--prepare",
        description =
            "Stop after CRIU: the process runs with its CUDA state checkpointed, holding no GPU"
                + " memory, until `warmstart activate`.")
    boolean prepare;

    @Option(
        names = "--hot",
        description =
            "With --prepare: also copy the GPU memory back, keeping the process locked (activation"
                + " is then only the unlock).")
    boolean hot;

    @Option(
        names = "--gpu",
        description = "Restore onto this GPU (UUID; repeat for several). Default: the same GPUs.")
    List<String> gpus = new ArrayList<>();

    @Option(
        names = "--same-gpu",
        description =
            "Fail (IncompatibleGpu) unless the target GPUs are the very GPUs of the checkpoint.")
    boolean sameGpu;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    int run(AgentComponents c, Output out) throws Exception {
      if (hot && !prepare) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--hot needs --prepare (a Hot standby is a prepared restore)");
      }
      if (cli.agentSocket().isPresent()) {
        return RemoteOperation.run(
            cli.requireAgentSocket(),
            OperationRequest.restore(
                "cli-" + UUID.randomUUID(),
                new RestoreRequest(
                    name,
                    container,
                    gpus,
                    timeoutSeconds,
                    prepare ? true : null,
                    prepare && hot ? true : null,
                    null,
                    sameGpu ? true : null,
                    null,
                    null)),
            out);
      }
      RestoreResult r =
          c.restores()
              .restore(
                  RestoreCommand.of(name, Duration.ofSeconds(timeoutSeconds))
                      .intoContainer(Optional.ofNullable(container))
                      .targetGpus(gpus)
                      .stage(
                          !prepare
                              ? RestoreCommand.Stage.RUN
                              : hot ? RestoreCommand.Stage.HOT : RestoreCommand.Stage.WARM)
                      .sameGpu(sameGpu)
                      .build(),
                  out::progress);
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("name", name);
      result.put("pid", r.pid());
      result.put("prepared", r.prepared());
      result.put("timings", r.timings());
      out.result(
          result,
          (r.prepared() ? "prepared '" : "restored '")
              + name
              + "' as PID "
              + r.pid()
              + preparedNote(r)
              + "\n"
              + Output.table(r.timings()));
      return ExitCodes.OK;
    }
  }

  /** What a prepared restore left to do; a CPU-only image has no GPU state to bring back. */
  static String preparedNote(RestoreResult r) {
    if (!r.prepared()) {
      return "";
    }
    return r.image().manifest().gpu() == null
        ? " (a CPU-only image: it runs already, there is nothing to activate)"
        : " (GPU state checkpointed: `warmstart activate`)";
  }

  @Command(
      name = "activate",
      mixinStandardHelpOptions = true,
      version = WarmstartCli.VERSION,
      description = "Bring back the GPU state of a prepared restore (driver restore + unlock).")
  static final class Activate extends Step {
    @Option(
        names = "--operation",
        description = "The agent's prepared RESTORE operation (with --agent-socket).")
    String operation;

    @Option(names = "--pid", description = "Root PID of a tree prepared by this CLI.")
    Integer pid;

    @Option(names = "--image", description = "The image it was prepared from (with --pid).")
    String image;

    @Option(names = "--gpu", description = "Restore onto this GPU (UUID; repeat for several).")
    List<String> gpus = new ArrayList<>();

    @Option(
        names = "--timeout",
        defaultValue = "600",
        converter = Seconds.class,
        description = "Seconds before giving up, 1-86400 (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    int run(AgentComponents c, Output out) throws Exception {
      if (cli.agentSocket().isPresent()) {
        if (operation == null) {
          throw new IllegalArgumentException("with --agent-socket, name the --operation");
        }
        return RemoteOperation.run(
            cli.requireAgentSocket(),
            OperationRequest.activate(
                "cli-" + UUID.randomUUID(), new ActivateRequest(operation, gpus, timeoutSeconds)),
            out);
      }
      if (pid == null || image == null) {
        throw new IllegalArgumentException("name the prepared tree: --pid and --image");
      }
      Map<String, Long> timings =
          c.activations()
              .activate(
                  ActivateCommand.of(pid, image, Duration.ofSeconds(timeoutSeconds))
                      .targetGpus(gpus)
                      .build());
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("pid", pid);
      result.put("timings", timings);
      out.result(result, "activated PID " + pid + "\n" + Output.table(timings));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "gpus",
      mixinStandardHelpOptions = true,
      version = WarmstartCli.VERSION,
      description = "Show this machine's GPUs as the agent sees them.")
  static final class Gpus extends Step {
    @Override
    int run(AgentComponents c, Output out) {
      GpuReport report = GpuReport.of(c.gpus(), WarmContextPool.empty());
      StringBuilder text = new StringBuilder();
      if (!report.available()) {
        text.append("no GPU: ").append(report.unavailableReason());
      } else {
        text.append("driver ").append(report.driverVersion()).append('\n');
        for (CudaDevice d : report.devices()) {
          text.append(
              String.format(
                  "%d  %s  %s  %d MiB%n",
                  d.ordinal(), d.uuid(), d.name(), d.totalMemoryBytes() >> 20));
        }
      }
      out.result(report, text.toString().strip());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      version = WarmstartCli.VERSION,
      description = "List stored images.")
  static final class ListImages extends Step {
    @Override
    int run(AgentComponents c, Output out) throws Exception {
      List<ImageEntry> images = c.store().entries();
      StoreUsage usage = c.store().usage();
      StringBuilder sb =
          new StringBuilder(
              String.format("%-30s %10s %-25s %s%n", "NAME", "SIZE", "CREATED", "SOURCE"));
      for (ImageEntry e : images) {
        Manifest m = e.manifest();
        sb.append(
            e.broken()
                ? String.format(
                    "%-30s %10s %-25s %s%n",
                    e.name(), mib(e.diskBytes()), "-", "BROKEN: " + e.problem())
                : String.format(
                    "%-30s %10s %-25s %s%n",
                    m.name(),
                    mib(m.sizeBytes()),
                    m.createdAt(),
                    CommandLines.redact(m.source().command())));
      }
      sb.append(
          String.format(
              "%nstore %s: %d image(s)%s, %s; in progress %s; %s free",
              usage.root(),
              usage.images(),
              usage.brokenImages() > 0 ? " (" + usage.brokenImages() + " broken)" : "",
              mib(usage.imageBytes()),
              mib(usage.inProgressBytes()),
              mib(usage.freeBytes())));
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("images", images.stream().map(WarmstartCli::summary).toList());
      result.put("store", usage);
      out.result(result, sb.toString());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      version = WarmstartCli.VERSION,
      description = "Verify an image against its manifest and show it.")
  static final class Inspect extends Step {
    @Parameters(index = "0", description = "Image name.")
    String name;

    @Override
    int run(AgentComponents c, Output out) throws Exception {
      StoredImage image = c.store().open(name);
      Manifest m = image.manifest();
      out.result(
          Map.of("digest", image.digest(), "manifest", m),
          "name:      "
              + m.name()
              + "\ndigest:    "
              + image.digest()
              + " (all "
              + m.files().size()
              + " files verified)\nsize:      "
              + mib(m.sizeBytes())
              + "\ncreated:   "
              + m.createdAt()
              + " on "
              + m.node()
              + "\ncriu:      "
              + m.criuVersion()
              + "\nsource:    PID "
              + m.source().pid()
              + " ("
              + CommandLines.redact(m.source().command())
              + "), "
              + m.source().processes().size()
              + " process(es), pid namespace "
              + m.source().pidNamespace()
              + "\ntimings:\n"
              + Output.table(m.timings()));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      version = WarmstartCli.VERSION,
      description = "Delete an image.")
  static final class Delete extends Step {
    @Parameters(index = "0", description = "Image name.")
    String name;

    @Override
    int run(AgentComponents c, Output out) throws Exception {
      if (!c.store().delete(name)) {
        throw new ImageNotFoundException(name);
      }
      out.result(Map.of("deleted", name), "deleted '" + name + "'");
      return ExitCodes.OK;
    }
  }

  static Map<String, Object> summary(StoredImage image) {
    return summary(image.manifest(), image.digest());
  }

  /** A listed image; a broken one with its reason, so it can be found and deleted. */
  static Map<String, Object> summary(ImageEntry e) {
    if (!e.broken()) {
      Map<String, Object> s = summary(e.manifest(), null);
      s.put("status", "ok");
      return s;
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("name", e.name());
    s.put("status", "broken");
    s.put("problem", e.problem());
    s.put("sizeBytes", e.diskBytes());
    return s;
  }

  private static Map<String, Object> summary(Manifest m, String digest) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("name", m.name());
    s.put("sizeBytes", m.sizeBytes());
    if (digest != null) {
      s.put("digest", digest);
    }
    s.put("createdAt", m.createdAt());
    s.put("criuVersion", m.criuVersion());
    s.put("processes", m.source().processes());
    s.put("timings", m.timings());
    return s;
  }

  static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / 1048576.0);
  }
}
