package dev.warmstart.agent.criu;

import dev.warmstart.agent.proc.Signals;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Stops a CRIU that ran too long the way that undoes its work: never while the CUDA plugin is in a
 * driver call (a process killed mid-call can stay locked for good), then SIGTERM, which our CRIU
 * (patches/criu/0003) answers by undoing the dump: sockets out of repair, network unlocked, devices
 * given back, tree resumed. Only a CRIU that does not end within the grace period (and no driver
 * call) is killed.
 */
final class CriuStopper {
  /** The longest the plugin lets one driver call run (WARMSTART_DRIVER_TIMEOUT_S) and a margin. */
  private static final Duration DRIVER_CALL_LIMIT = Duration.ofSeconds(330);

  private static final long POLL_MILLIS = 50;

  private final Duration grace;

  CriuStopper(Duration grace) {
    this.grace = grace;
  }

  /**
   * Stops {@code criu} (its log at {@code log}); returns what happened, for the failure message.
   */
  String stop(SwrkChild criu, Path log, Supplier<String> beforeKill) throws InterruptedException {
    long driverDeadline = System.nanoTime() + DRIVER_CALL_LIMIT.toNanos();
    boolean waitedForDriver = false;
    while (criu.isAlive() && inDriverCall(log) && System.nanoTime() < driverDeadline) {
      waitedForDriver = true;
      Thread.sleep(POLL_MILLIS);
    }
    if (!criu.isAlive()) {
      return "it ended after a driver call in progress had returned" + exitNote(criu, log);
    }
    signalCriu(criu, Signals.SIGTERM);
    long deadline = System.nanoTime() + grace.toNanos();
    while (criu.isAlive()
        && (System.nanoTime() < deadline
            || (inDriverCall(log) && System.nanoTime() < driverDeadline))) {
      Thread.sleep(POLL_MILLIS);
    }
    String waited = waitedForDriver ? " (after waiting for a GPU driver call to return)" : "";
    if (!criu.isAlive()) {
      return "it was asked to stop" + waited + exitNote(criu, log);
    }
    String undone = beforeKill.get();
    ProcessHandle.of(criu.pid())
        .ifPresent(p -> p.descendants().forEach(ProcessHandle::destroyForcibly));
    criu.signal(Signals.SIGKILL);
    criu.waitFor(Duration.ofSeconds(10));
    return "it was asked to stop"
        + waited
        + " but did not end within "
        + grace
        + " and was killed"
        + undone;
  }

  private static boolean inDriverCall(Path log) {
    return log != null && CriuLog.driverCallInProgress(log);
  }

  private static String exitNote(SwrkChild criu, Path log) {
    try {
      boolean undone =
          log != null
              && Files.exists(log)
              && Files.readString(log, StandardCharsets.ISO_8859_1)
                  .contains("Dump interrupted by signal");
      return undone
          ? " and undid the dump (" + criu.exitNote() + ")"
          : " and ended (" + criu.exitNote() + ")";
    } catch (IOException e) {
      return " and ended (" + criu.exitNote() + ")";
    }
  }

  /**
   * SIGTERM to CRIU itself: the process we started (the criu wrapper execs CRIU), and for a restore
   * launched through nsenter, the CRIU it forked; never the restored tree.
   */
  private static void signalCriu(SwrkChild criu, int signal) {
    criu.signal(signal);
    ProcessHandle.of(criu.pid()).stream()
        .flatMap(ProcessHandle::children)
        .filter(
            c ->
                c.info()
                    .command()
                    .map(cmd -> cmd.contains("ld-linux") || cmd.endsWith("criu"))
                    .orElse(false))
        .forEach(c -> Signals.send((int) c.pid(), signal));
  }
}
