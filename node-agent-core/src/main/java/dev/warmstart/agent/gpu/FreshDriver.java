package dev.warmstart.agent.gpu;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The driver's checkpoint calls on other processes, made by the plugin directory's {@code
 * warmstart-cuda} (native-plugin/src/ctl.c, the plugin's own C code) in a fresh process, whose
 * driver state is new: a long-lived caller's can be stale for a PID that a restore has reused.
 */
public final class FreshDriver {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String TOOL = "warmstart-cuda";

  private final Optional<Path> tool;
  private final Map<String, String> environment;

  /** A tool in {@code pluginDir}, run with {@code environment} (e.g. WARMSTART_LIBCUDA). */
  public FreshDriver(Optional<Path> pluginDir, Map<String, String> environment) {
    this.tool = pluginDir.map(d -> d.resolve(TOOL)).filter(Files::isExecutable);
    this.environment = environment;
  }

  /** What the tool said of one process. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Proc(
      int pid,
      String initial,
      String state,
      double restoreMs,
      double unlockMs,
      String error,
      String note) {
    /** Whether the tool restored or unlocked it (it was checkpointed, or locked when unlocking). */
    boolean activated(boolean unlock) {
      return "CHECKPOINTED".equals(initial) || (unlock && "LOCKED".equals(initial));
    }
  }

  /** Its whole answer. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Answer(boolean ok, List<Proc> processes, String error) {
    public Answer {
      processes = processes == null ? List.of() : processes;
    }
  }

  public boolean available() {
    return tool.isPresent();
  }

  /** The driver's state of each process (RUNNING, LOCKED, CHECKPOINTED or NONE). */
  public Answer state(List<Integer> pids, Duration timeout) throws IOException {
    return run(List.of("state"), pids, timeout);
  }

  /** Restores checkpointed processes and unlocks them (unless {@code keepLocked}). */
  public Answer activate(
      List<Integer> pids, List<GpuPair> remap, boolean keepLocked, Duration timeout)
      throws IOException {
    List<String> args = new ArrayList<>(List.of("activate"));
    if (!remap.isEmpty()) {
      args.add("--remap");
      args.add(remap.stream().map(p -> p.from() + "=" + p.to()).collect(Collectors.joining(",")));
    }
    if (keepLocked) {
      args.add("--keep-locked");
    }
    return run(args, pids, timeout);
  }

  private Answer run(List<String> args, List<Integer> pids, Duration timeout) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(tool.orElseThrow(() -> new IOException(TOOL + " is not installed")).toString());
    cmd.addAll(args);
    pids.forEach(p -> cmd.add(Integer.toString(p)));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(environment);
    // Ours fires first (a Timeout); the tool's own bound only keeps it from outliving the call.
    pb.environment().put("WARMSTART_DRIVER_TIMEOUT_S", Long.toString(timeout.toSeconds() + 1));
    Process p = pb.start();
    // Read while waiting: a tool that hangs must not hold the caller past its timeout.
    CompletableFuture<byte[]> out =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return p.getInputStream().readAllBytes();
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new NoAnswerInTime(TOOL + " did not answer within " + timeout);
      }
      return JSON.readValue(out.get(timeout.toMillis(), TimeUnit.MILLISECONDS), Answer.class);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException(TOOL + " gave no answer: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new InterruptedIOException("interrupted waiting for " + TOOL);
    }
  }

  /** The tool did not answer within the caller's timeout; it was killed. */
  public static final class NoAnswerInTime extends IOException {
    NoAnswerInTime(String message) {
      super(message);
    }
  }
}
