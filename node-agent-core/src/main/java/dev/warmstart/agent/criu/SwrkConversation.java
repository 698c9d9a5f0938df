package dev.warmstart.agent.criu;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.warmstart.agent.criu.SwrkChild.InheritedFd;
import dev.warmstart.agent.criu.rpc.Rpc.criu_req;
import dev.warmstart.agent.criu.rpc.Rpc.criu_req_type;
import dev.warmstart.agent.criu.rpc.Rpc.criu_resp;
import dev.warmstart.api.agent.ErrorReason;
import java.io.EOFException;
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

/**
 * One request to a fresh {@code criu swrk}: start it, send the request, answer CRIU's
 * notifications, stop CRIU at the deadline (CriuStopper), and turn its answer into a result or a
 * CriuFailure (CriuErrors).
 */
final class SwrkConversation {
  private static final Duration POLL = Duration.ofMillis(50);
  private static final Duration EXIT_AFTER_ANSWER = Duration.ofSeconds(30);

  private final CriuSettings settings;
  private final CriuStopper stopper;

  SwrkConversation(CriuSettings settings) {
    this.settings = settings;
    this.stopper = new CriuStopper(settings.stopGrace());
  }

  /**
   * Starts {@code criu swrk}, sends {@code request}, answers CRIU's notifications (running {@code
   * postDump} at post-dump) and returns CRIU's successful answer; anything else is a CriuFailure.
   */
  criu_resp run(
      List<String> command,
      Map<String, String> extraEnv,
      List<InheritedFd> fds,
      criu_req request,
      Duration timeout,
      String action,
      Optional<DumpSpec.FrozenStep> postDump,
      Path log,
      Supplier<String> beforeKill)
      throws CriuFailure {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.putAll(settings.environment());
    settings.pluginDir().ifPresent(d -> env.put("CRIU_LIBS_DIR", d.toString()));
    env.putAll(extraEnv);
    long deadline = System.nanoTime() + timeout.toNanos();
    Path console = null;
    Exception frozenFailure = null;
    try {
      List<InheritedFd> stdio = new ArrayList<>(fds);
      console =
          log == null
              ? Files.createTempFile("criu-" + action, ".console")
              : Files.createTempFile(log.getParent(), "criu-" + action, ".console");
      stdio.add(new InheritedFd(0, Path.of("/dev/null"), false));
      stdio.add(new InheritedFd(1, console, true));
      stdio.add(new InheritedFd(2, console, true));
      try (SwrkChild criu = SwrkChild.start(command, env, stdio)) {
        criu.send(request.toByteArray());
        while (true) {
          if (System.nanoTime() > deadline) {
            String how = stopper.stop(criu, log, beforeKill);
            throw new CriuFailure(
                ErrorReason.Timeout,
                "criu " + action + " did not finish within " + timeout + ": " + how);
          }
          Optional<byte[]> message;
          try {
            message = criu.receive(POLL);
          } catch (EOFException ended) {
            // CRIU ended without answering (killed, or it never started): its log tells why.
            criu.waitFor(EXIT_AFTER_ANSWER);
            criu_resp none = criu_resp.getDefaultInstance();
            throw new CriuFailure(
                CriuErrors.reason(none, errors(log, "")),
                "criu "
                    + action
                    + " failed ("
                    + criu.exitNote()
                    + ", no answer): "
                    + CriuErrors.detail(none, errors(log, Files.readString(console).strip())));
          }
          if (message.isEmpty()) {
            continue;
          }
          criu_resp resp = criu_resp.parseFrom(message.get());
          if (resp.getType() == criu_req_type.NOTIFY) {
            boolean ok = true;
            if ("post-dump".equals(resp.getNotify().getScript()) && postDump.isPresent()) {
              frozenFailure = runFrozen(postDump.get());
              ok = frozenFailure == null && System.nanoTime() < deadline;
            }
            criu.send(CriuRequests.notifyAnswer(ok).toByteArray());
            continue;
          }
          criu.waitFor(EXIT_AFTER_ANSWER);
          if (!resp.getSuccess()) {
            List<String> logErrors = errors(log, "");
            throw new CriuFailure(
                CriuErrors.reason(resp, logErrors),
                "criu " + action + " failed: " + CriuErrors.detail(resp, logErrors),
                frozenFailure);
          }
          return resp;
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new CriuFailure(
          ErrorReason.CriuFailed, "criu " + action + " sent an unreadable answer: " + e, e);
    } catch (IOException e) {
      throw new CriuFailure(
          isNoSpace(e) ? ErrorReason.NoSpace : ErrorReason.CriuFailed,
          "criu " + action + ": " + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuFailure(ErrorReason.Interrupted, "interrupted during criu " + action, e);
    } finally {
      if (console != null) {
        try {
          Files.deleteIfExists(console);
        } catch (IOException e) {
          // a leftover console file in a work directory is harmless
        }
      }
    }
  }

  /** Runs the post-dump step; its failure (CRIU then fails the dump, with it as the cause). */
  private static Exception runFrozen(DumpSpec.FrozenStep step) {
    try {
      step.run();
      return null;
    } catch (Exception e) {
      return e;
    }
  }

  /** The log's error lines (all of them: CRIU's first error is not always the cause). */
  private static List<String> errors(Path log, String orElse) {
    List<String> errors = log == null ? List.of() : CriuLog.errors(log, Integer.MAX_VALUE);
    return errors.isEmpty() && !orElse.isEmpty() ? List.of(orElse) : errors;
  }

  private static boolean isNoSpace(IOException e) {
    return String.valueOf(e.getMessage()).contains("No space left");
  }
}
