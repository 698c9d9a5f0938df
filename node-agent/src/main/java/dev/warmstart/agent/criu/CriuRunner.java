package dev.warmstart.agent.criu;

import dev.warmstart.agent.proc.Signals;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs the criu CLI. Restores go through a small shell launcher because CRIU takes inherited
 * namespaces and pipes as open file descriptors and must start inside the target's cgroups, which
 * Java's ProcessBuilder cannot arrange.
 */
public final class CriuRunner {
  /** The longest the plugin lets one driver call run (WARMSTART_DRIVER_TIMEOUT_S) and a margin. */
  private static final Duration DRIVER_CALL_LIMIT = Duration.ofSeconds(330);

  private static final Duration POLL = Duration.ofMillis(50);

  /** setpriv (util-linux): CRIU gets SIGTERM when the agent dies, see #dump. */
  private static final List<Path> SETPRIV =
      List.of(Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv"));

  private final CriuSettings settings;

  public CriuRunner(CriuSettings settings) {
    this.settings = settings;
  }

  /** Wall time of a successful CRIU run and where its log is. */
  public record CriuRun(long millis, Path log) {}

  /** CRIU's version, e.g. "4.2.1". */
  public String version() throws CriuFailure {
    try {
      Process p = new ProcessBuilder(settings.binary().toString(), "--version").start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new CriuFailure(ErrorReason.CriuFailed, "criu --version failed: " + out.strip());
      }
      return out.lines()
          .filter(l -> l.startsWith("Version:"))
          .map(l -> l.substring("Version:".length()).strip())
          .findFirst()
          .orElseThrow(() -> new CriuFailure(ErrorReason.CriuFailed, "no version in: " + out));
    } catch (IOException e) {
      throw new CriuFailure(
          ErrorReason.CriuFailed, "criu not runnable at " + settings.binary() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuFailure(ErrorReason.Interrupted, "interrupted asking criu for its version", e);
    }
  }

  public CriuRun dump(DumpSpec spec, Duration timeout) throws CriuFailure {
    Path log = spec.imageDir().resolve("dump.log");
    List<String> cmd = new ArrayList<>();
    // An orphaned dump must not finish on its own (and end a workload) after the agent died: CRIU
    // gets SIGTERM the moment the agent's thread that started it is gone, and undoes the dump.
    SETPRIV.stream()
        .filter(Files::isExecutable)
        .findFirst()
        .ifPresent(s -> cmd.addAll(List.of(s.toString(), "--pdeathsig", "TERM")));
    cmd.addAll(List.of(settings.binary().toString(), "dump"));
    cmd.addAll(List.of("-t", Integer.toString(spec.pid()), "-D", spec.imageDir().toString()));
    cmd.addAll(List.of("-o", log.toString(), "-v4", "--tcp-established"));
    cmd.addAll(List.of("--timeout", Integer.toString(spec.freezeTimeoutSeconds())));
    if (spec.leaveRunning()) {
      cmd.add("--leave-running");
    }
    spec.externals().forEach(e -> cmd.addAll(List.of("--external", e)));
    spec.actionScript().ifPresent(s -> cmd.addAll(List.of("--action-script", s.toString())));
    addPluginDir(cmd);
    ProcessBuilder pb = withEnvironment(new ProcessBuilder(cmd));
    // Tell the CUDA plugin explicitly: it must give GPU state back when the tree keeps running.
    pb.environment().put("WARMSTART_LEAVE_RUNNING", spec.leaveRunning() ? "1" : "0");
    pb.environment()
        .put("WARMSTART_LOCK_TIMEOUT_MS", Long.toString(spec.freezeTimeoutSeconds() * 1000L));
    // A CRIU that must be killed still holds the tree: its sockets leave repair mode first.
    java.util.function.Supplier<String> beforeKill =
        () ->
            " (first took "
                + Signals.leaveTcpRepair(
                    java.util.stream.Stream.concat(
                            java.util.stream.Stream.of(spec.pid()),
                            ProcessHandle.of(spec.pid()).stream()
                                .flatMap(ProcessHandle::descendants)
                                .map(h -> (int) h.pid()))
                        .toList())
                + " TCP socket(s) of the tree out of repair mode)";
    return run(pb, log, timeout, "dump", beforeKill);
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
    Path log = spec.workDir().resolve("restore.log");
    List<String> criu = new ArrayList<>(List.of(settings.binary().toString(), "restore"));
    criu.addAll(List.of("-D", spec.imageDir().toString(), "-W", spec.workDir().toString()));
    criu.addAll(List.of("-o", log.toString(), "-v4", "-d", "--tcp-established"));
    criu.addAll(List.of("--pidfile", spec.pidFile().toString()));
    spec.root()
        .ifPresent(
            r -> {
              criu.addAll(List.of("--root", r.toString()));
              // A kubelet container's root is a slave of the node's overlay mount (runc makes /
              // rslave). CRIU's default mount engine (v2) then copies that sharing from --root with
              // MOVE_MOUNT_SET_GROUP, which fails with EINVAL when CRIU runs in the agent pod's
              // mount namespace; the v1 engine restores the tree onto --root without it.
              criu.add("--mntns-compat-mode");
            });
    if (!spec.cgroupProcsFiles().isEmpty()) {
      criu.add("--manage-cgroups=ignore");
    }
    spec.inheritFds().forEach(f -> criu.addAll(List.of("--inherit-fd", f)));
    spec.joinNamespaces().forEach(n -> criu.addAll(List.of("--join-ns", n)));
    spec.externals().forEach(e -> criu.addAll(List.of("--external", e)));
    addPluginDir(criu);

    StringBuilder script = new StringBuilder("set -e\n");
    for (Path procs : spec.cgroupProcsFiles()) {
      script.append("echo $$ > ").append(quote(procs.toString())).append('\n');
    }
    script.append("exec ");
    spec.enterPidNamespaceOf()
        .ifPresent(
            pid ->
                script.append("nsenter -t ").append(pid).append(" -p -- unshare -m --mount-proc "));
    script.append(criu.stream().map(CriuRunner::quote).collect(Collectors.joining(" ")));
    for (RestoreSpec.RedirectedFd fd : spec.fdSources()) {
      script
          .append(' ')
          .append(fd.fd())
          .append(fd.write() ? ">" : "<")
          .append(quote(fd.path().toString()));
    }
    ProcessBuilder pb = withEnvironment(new ProcessBuilder("/bin/sh", "-c", script.toString()));
    // The plugin's restore report goes to the work directory: the image stays as it was.
    pb.environment().put("WARMSTART_CUDA_REPORT_DIR", spec.workDir().toString());
    spec.gpuRemap().ifPresent(r -> pb.environment().put("WARMSTART_GPU_REMAP", r));
    if (spec.deferGpu()) {
      pb.environment().put("WARMSTART_CUDA_DEFER", "1");
    }
    verifyGate.ifPresent(
        g -> {
          pb.environment().put("WARMSTART_VERIFY_GATE", g.toString());
          pb.environment().put("WARMSTART_VERIFY_TIMEOUT_S", Long.toString(timeout.toSeconds()));
        });
    return run(pb, log, timeout, "restore", () -> "");
  }

  private ProcessBuilder withEnvironment(ProcessBuilder pb) {
    pb.environment().putAll(settings.environment());
    return pb;
  }

  private void addPluginDir(List<String> cmd) {
    settings.pluginDir().ifPresent(d -> cmd.addAll(List.of("--libdir", d.toString())));
  }

  private CriuRun run(
      ProcessBuilder pb,
      Path log,
      Duration timeout,
      String action,
      java.util.function.Supplier<String> beforeKill)
      throws CriuFailure {
    long start = System.nanoTime();
    Path console;
    try {
      console = Files.createTempFile(log.getParent(), action, ".console");
      pb.redirectErrorStream(true).redirectOutput(console.toFile());
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        String how = stop(p, log, beforeKill);
        Files.deleteIfExists(console);
        throw new CriuFailure(
            ErrorReason.Timeout,
            "criu " + action + " did not finish within " + timeout + ": " + how);
      }
      String consoleText = Files.readString(console).strip();
      Files.deleteIfExists(console);
      if (p.exitValue() != 0) {
        List<String> errors = CriuLog.errors(log, 3);
        String detail = errors.isEmpty() ? consoleText : String.join("; ", errors);
        throw new CriuFailure(
            classify(detail), "criu " + action + " failed (exit " + p.exitValue() + "): " + detail);
      }
      return new CriuRun((System.nanoTime() - start) / 1_000_000, log);
    } catch (IOException e) {
      throw new CriuFailure(
          isNoSpace(e) ? ErrorReason.NoSpace : ErrorReason.CriuFailed,
          "criu " + action + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuFailure(ErrorReason.Interrupted, "interrupted during criu " + action, e);
    }
  }

  /**
   * Stops a CRIU that ran too long the way that undoes its work: never while the CUDA plugin is in
   * a driver call (a process killed mid-call can stay locked for good), then SIGTERM, which our
   * CRIU (patches/criu/0003) answers by undoing the dump: sockets out of repair, network unlocked,
   * devices given back, tree resumed. Only a CRIU that does not end within the grace period (and no
   * driver call) is killed. Returns what happened, for the failure message.
   */
  private String stop(Process p, Path log, java.util.function.Supplier<String> beforeKill)
      throws InterruptedException {
    long driverDeadline = System.nanoTime() + DRIVER_CALL_LIMIT.toNanos();
    boolean waitedForDriver = false;
    while (p.isAlive() && CriuLog.driverCallInProgress(log) && System.nanoTime() < driverDeadline) {
      waitedForDriver = true;
      p.waitFor(POLL.toMillis(), TimeUnit.MILLISECONDS);
    }
    if (!p.isAlive()) {
      return "it ended after a driver call in progress had returned" + exitNote(p, log);
    }
    signalCriu(p, Signals.SIGTERM);
    long deadline = System.nanoTime() + settings.stopGrace().toNanos();
    while (p.isAlive()
        && (System.nanoTime() < deadline
            || (CriuLog.driverCallInProgress(log) && System.nanoTime() < driverDeadline))) {
      p.waitFor(POLL.toMillis(), TimeUnit.MILLISECONDS);
    }
    String waited = waitedForDriver ? " (after waiting for a GPU driver call to return)" : "";
    if (!p.isAlive()) {
      return "it was asked to stop" + waited + exitNote(p, log);
    }
    String undone = beforeKill.get();
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    return "it was asked to stop"
        + waited
        + " but did not end within "
        + settings.stopGrace()
        + " and was killed"
        + undone;
  }

  private static String exitNote(Process p, Path log) {
    try {
      boolean undone =
          Files.exists(log)
              && Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1)
                  .contains("Dump interrupted by signal");
      return undone
          ? " and undid the dump (exit " + p.exitValue() + ")"
          : " and ended (exit " + p.exitValue() + ")";
    } catch (IOException e) {
      return " and ended (exit " + p.exitValue() + ")";
    }
  }

  /**
   * SIGTERM to CRIU itself: the process we started (the criu wrapper execs CRIU), and for a restore
   * launched through a shell and nsenter, the CRIU it forked; never the restored tree.
   */
  private static void signalCriu(Process p, int signal) {
    Signals.send((int) p.pid(), signal);
    p.children()
        .filter(
            c ->
                c.info()
                    .command()
                    .map(cmd -> cmd.contains("ld-linux") || cmd.endsWith("criu"))
                    .orElse(false))
        .forEach(c -> Signals.send((int) c.pid(), signal));
  }

  /** Maps CRIU's error text to a reason a user can act on. */
  static ErrorReason classify(String detail) {
    String d = detail.toLowerCase(java.util.Locale.ROOT);
    if (d.contains("no space left")) {
      return ErrorReason.NoSpace;
    }
    if (d.contains("file exists")
        && (d.contains("fork") || d.contains("set_tid") || d.contains("pid"))) {
      return ErrorReason.PidInUse;
    }
    if (d.contains("unable to create a thread: -17")) {
      return ErrorReason.PidInUse; // a thread id of the image is taken (clone3 set_tid: EEXIST)
    }
    if (d.contains("no such process") || d.contains("can't find") || d.contains("doesn't exist")) {
      return ErrorReason.ProcessNotFound;
    }
    return ErrorReason.CriuFailed;
  }

  private static boolean isNoSpace(IOException e) {
    return String.valueOf(e.getMessage()).contains("No space left");
  }

  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
