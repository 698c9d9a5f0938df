package dev.warmstart.agent.criu;

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
    List<String> cmd = new ArrayList<>(List.of(settings.binary().toString(), "dump"));
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
    return run(pb, log, timeout, "dump");
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
    return run(pb, log, timeout, "restore");
  }

  private ProcessBuilder withEnvironment(ProcessBuilder pb) {
    pb.environment().putAll(settings.environment());
    return pb;
  }

  private void addPluginDir(List<String> cmd) {
    settings.pluginDir().ifPresent(d -> cmd.addAll(List.of("--libdir", d.toString())));
  }

  private static CriuRun run(ProcessBuilder pb, Path log, Duration timeout, String action)
      throws CriuFailure {
    long start = System.nanoTime();
    Path console;
    try {
      console = Files.createTempFile(log.getParent(), action, ".console");
      pb.redirectErrorStream(true).redirectOutput(console.toFile());
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new CriuFailure(
            ErrorReason.Timeout, "criu " + action + " did not finish within " + timeout);
      }
      String consoleText = Files.readString(console).strip();
      Files.deleteIfExists(console);
      if (p.exitValue() != 0) {
        List<String> errors = CriuLog.errors(log, 5);
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
