package dev.warmstart.agent.criu;

import dev.warmstart.agent.criu.SwrkChild.InheritedFd;
import dev.warmstart.agent.criu.rpc.Rpc.criu_resp;
import dev.warmstart.agent.criu.rpc.Rpc.criu_version;
import dev.warmstart.agent.proc.Signals;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.RestoreStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Drives CRIU over its RPC, as runc and podman do: one {@code criu swrk} per operation, a request
 * built from the spec, CRIU's notifications answered (the dump's post-dump step runs there), and
 * the failure read from CRIU's response. CRIU's log stays in the image or work directory.
 */
public final class CriuRunner {
  /** setpriv (util-linux): CRIU gets SIGTERM when the agent dies, see #dump. */
  private static final List<Path> SETPRIV =
      List.of(Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv"));

  /**
   * Puts CRIU where the restored tree must live before CRIU starts: joins each cgroup.procs file
   * given before {@code --}, then execs the rest (CRIU, or nsenter and CRIU).
   */
  private static final String LAUNCHER =
      "set -e; while [ \"$1\" != -- ]; do echo $$ > \"$1\"; shift; done; shift; exec \"$@\"";

  private final CriuSettings settings;
  private final SwrkConversation conversation;

  public CriuRunner(CriuSettings settings) {
    this.settings = settings;
    this.conversation = new SwrkConversation(settings);
  }

  /** Wall time of a successful CRIU run and where its log is. */
  public record CriuRun(long millis, Path log) {}

  /** CRIU's version, e.g. "4.2.1" (its answer to a VERSION request). */
  public String version() throws CriuFailure {
    List<String> cmd = List.of(settings.binary().toString(), "swrk");
    criu_resp resp =
        conversation.run(
            cmd,
            Map.of(),
            List.of(),
            CriuRequests.version(),
            Duration.ofSeconds(30),
            "version",
            Optional.empty(),
            null,
            () -> "");
    criu_version v = resp.getVersion();
    return v.getMajorNumber()
        + "."
        + v.getMinorNumber()
        + (v.hasSublevel() ? "." + v.getSublevel() : "");
  }

  public CriuRun dump(DumpSpec spec, Duration timeout) throws CriuFailure {
    Path log = spec.imageDir().resolve(CriuRequests.DUMP_LOG);
    List<String> cmd = new ArrayList<>();
    // An orphaned dump must not finish on its own (and end a workload) after the agent died: CRIU
    // gets SIGTERM the moment the agent's thread that started it is gone, and undoes the dump.
    SETPRIV.stream()
        .filter(Files::isExecutable)
        .findFirst()
        .ifPresent(s -> cmd.addAll(List.of(s.toString(), "--pdeathsig", "TERM", "--")));
    cmd.addAll(List.of(settings.binary().toString(), "swrk"));
    Map<String, String> env = new HashMap<>();
    // Tell the CUDA plugin explicitly: it must give GPU state back when the tree keeps running.
    env.put("WARMSTART_LEAVE_RUNNING", spec.leaveRunning() ? "1" : "0");
    env.put("WARMSTART_LOCK_TIMEOUT_MS", Long.toString(spec.freezeTimeoutSeconds() * 1000L));
    // A CRIU that must be killed still holds the tree: its sockets leave repair mode first.
    Supplier<String> beforeKill =
        () ->
            " (first took "
                + Signals.leaveTcpRepair(
                    Stream.concat(
                            Stream.of(spec.pid()),
                            ProcessHandle.of(spec.pid()).stream()
                                .flatMap(ProcessHandle::descendants)
                                .map(h -> (int) h.pid()))
                        .toList())
                + " TCP socket(s) of the tree out of repair mode)";
    long start = System.nanoTime();
    conversation.run(
        cmd,
        env,
        List.of(),
        CriuRequests.dump(spec),
        timeout,
        "dump",
        spec.postDump(),
        log,
        beforeKill);
    return new CriuRun((System.nanoTime() - start) / 1_000_000, log);
  }

  public CriuRun restore(RestoreSpec spec, Duration timeout) throws CriuFailure {
    return restore(spec, timeout, Optional.empty());
  }

  /** Whether restores can be held at the plugin's integrity gate (our plugin is loaded). */
  public boolean hasIntegrityGate() {
    return settings.pluginDir().isPresent();
  }

  /**
   * A restore whose tree the plugin holds, stopped, at {@code verifyGate} until the agent has
   * verified the image (see VerificationGate).
   */
  public CriuRun restore(RestoreSpec spec, Duration timeout, Optional<Path> verifyGate)
      throws CriuFailure {
    Path log = spec.workDir().resolve(CriuRequests.RESTORE_LOG);
    List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", LAUNCHER, "criu-launcher"));
    spec.cgroupProcsFiles().forEach(p -> cmd.add(p.toString()));
    cmd.add("--");
    spec.enterPidNamespaceOf()
        .ifPresent(
            pid ->
                cmd.addAll(
                    List.of(
                        "nsenter",
                        "-t",
                        pid.toString(),
                        "-p",
                        "--",
                        "unshare",
                        "-m",
                        "--mount-proc")));
    cmd.addAll(List.of(settings.binary().toString(), "-W", spec.workDir().toString(), "swrk"));
    Map<String, String> env = new HashMap<>();
    // The plugin's restore report goes to the work directory: the image stays as it was.
    env.put("WARMSTART_CUDA_REPORT_DIR", spec.workDir().toString());
    spec.gpuRemap().ifPresent(r -> env.put("WARMSTART_GPU_REMAP", r));
    env.put(RestoreStage.PLUGIN_ENV, spec.stage().name());
    verifyGate.ifPresent(
        g -> {
          env.put("WARMSTART_VERIFY_GATE", g.toString());
          env.put("WARMSTART_VERIFY_TIMEOUT_S", Long.toString(timeout.toSeconds()));
        });
    List<InheritedFd> fds = new ArrayList<>();
    spec.fdSources().forEach(f -> fds.add(new InheritedFd(f.fd(), f.path(), f.write())));
    long start = System.nanoTime();
    criu_resp resp =
        conversation.run(
            cmd,
            env,
            fds,
            CriuRequests.restore(spec),
            timeout,
            "restore",
            Optional.empty(),
            log,
            () -> "");
    try {
      Files.writeString(spec.pidFile(), Integer.toString(resp.getRestore().getPid()));
    } catch (IOException e) {
      throw new CriuFailure(
          ErrorReason.Internal, "writing the restored PID to " + spec.pidFile() + ": " + e, e);
    }
    return new CriuRun((System.nanoTime() - start) / 1_000_000, log);
  }
}
