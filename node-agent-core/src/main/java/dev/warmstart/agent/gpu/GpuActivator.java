package dev.warmstart.agent.gpu;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDriver;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.agent.cuda.CudaException;
import dev.warmstart.agent.cuda.CudaProcessState;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The driver's half of a staged restore, every CUDA process of a tree in parallel: restore the GPU
 * memory of checkpointed processes (a Hot standby stops there, locked), and unlock (activation).
 */
public final class GpuActivator {
  private final GpuRuntime gpus;
  private final FreshDriver fresh;

  public GpuActivator(GpuRuntime gpus, FreshDriver fresh) {
    this.gpus = gpus;
    this.fresh = fresh;
  }

  /** What an activation did: the CUDA processes and step times in ms (slowest process). */
  public record Activation(List<Integer> pids, Map<String, Long> timings) {}

  private record Done(long restoreMs, long unlockMs) {}

  /**
   * Brings the tree's CUDA processes to RUNNING: a CHECKPOINTED process gets its GPU memory back
   * and is unlocked, a LOCKED one (a Hot standby) is only unlocked.
   */
  public Activation activate(List<Integer> tree, List<GpuPair> remap, Duration timeout)
      throws OperationFailure {
    return run(tree, remap, timeout, true);
  }

  /**
   * Copies the GPU memory of the tree's checkpointed CUDA processes back and leaves them LOCKED: a
   * Hot standby, whose activation is only the unlock.
   */
  public Activation restoreLocked(List<Integer> tree, List<GpuPair> remap, Duration timeout)
      throws OperationFailure {
    return run(tree, remap, timeout, false);
  }

  private Activation run(List<Integer> tree, List<GpuPair> remap, Duration timeout, boolean unlock)
      throws OperationFailure {
    CudaDriver cuda =
        gpus.cuda()
            .orElseThrow(
                () ->
                    new OperationFailure(
                        ErrorReason.IncompatibleGpu,
                        "cannot activate: no CUDA driver here (" + gpus.unavailableReason() + ")"));
    long t0 = System.nanoTime();
    Map<Integer, CudaProcessState> states = new LinkedHashMap<>();
    List<String> answers = new ArrayList<>();
    for (int pid : tree) {
      try {
        CudaDriver.StateAnswer a = cuda.stateOf(pid);
        a.state()
            .filter(
                s -> s == CudaProcessState.CHECKPOINTED || (unlock && s == CudaProcessState.LOCKED))
            .ifPresentOrElse(
                s -> states.put(pid, s), () -> answers.add(pid + ": " + a.driverAnswer()));
      } catch (CudaException e) {
        throw new OperationFailure(
            ErrorReason.GpuRestoreFailed, "cannot read the CUDA state of " + pid + ": " + e, e);
      }
    }
    if (states.isEmpty()) {
      return viaFreshDriver(tree, remap, timeout, unlock, answers, t0);
    }
    List<Integer> pids = List.copyOf(states.keySet());
    long scanMs = (System.nanoTime() - t0) / 1_000_000;
    ExecutorService pool = Executors.newFixedThreadPool(pids.size());
    try {
      List<Future<Done>> running = new ArrayList<>();
      for (int pid : pids) {
        boolean restore = states.get(pid) == CudaProcessState.CHECKPOINTED;
        running.add(pool.submit(() -> step(cuda, pid, remap, restore, unlock)));
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      long restoreMs = 0;
      long unlockMs = 0;
      List<String> errors = new ArrayList<>();
      for (int i = 0; i < running.size(); i++) {
        try {
          Done d =
              running.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          restoreMs = Math.max(restoreMs, d.restoreMs());
          unlockMs = Math.max(unlockMs, d.unlockMs());
        } catch (ExecutionException e) {
          errors.add("process " + pids.get(i) + ": " + e.getCause().getMessage());
        } catch (TimeoutException e) {
          throw new OperationFailure(
              ErrorReason.Timeout,
              "the driver did not restore process " + pids.get(i) + " within " + timeout);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new OperationFailure(ErrorReason.Interrupted, "activation interrupted", e);
        }
      }
      if (!errors.isEmpty()) {
        throw new OperationFailure(ErrorReason.GpuRestoreFailed, String.join("; ", errors));
      }
      Map<String, Long> timings = new LinkedHashMap<>();
      timings.put("cudaScan", scanMs);
      timings.put("gpuRestore", restoreMs);
      if (unlock) {
        timings.put("gpuUnlock", unlockMs);
      }
      timings.put(unlock ? "activate" : "gpuRestoreLocked", (System.nanoTime() - t0) / 1_000_000);
      return new Activation(pids, timings);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The agent's driver found nothing to activate: ask a fresh process, whose driver state cannot be
   * stale for a reused PID, and let it do the work. Every failure names what the driver said.
   */
  private Activation viaFreshDriver(
      List<Integer> tree,
      List<GpuPair> remap,
      Duration timeout,
      boolean unlock,
      List<String> agentAnswers,
      long t0)
      throws OperationFailure {
    String agentSaid = "the agent's driver: " + String.join("; ", agentAnswers);
    if (!fresh.available()) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "no process of tree "
              + tree
              + " has checkpointed CUDA state: nothing to activate ("
              + agentSaid
              + ")");
    }
    FreshDriver.Answer a;
    try {
      a = fresh.activate(tree, remap, !unlock, timeout);
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.GpuRestoreFailed, "activation failed: " + e.getMessage() + "; " + agentSaid);
    }
    List<String> errors = new ArrayList<>();
    List<Integer> pids = new ArrayList<>();
    double restoreMs = 0;
    double unlockMs = 0;
    for (FreshDriver.Proc p : a.processes()) {
      if (p.error() != null) {
        errors.add("process " + p.pid() + ": " + p.error());
      } else if (p.activated(unlock)) {
        pids.add(p.pid());
        restoreMs = Math.max(restoreMs, p.restoreMs());
        unlockMs = Math.max(unlockMs, p.unlockMs());
      }
    }
    if (a.error() != null) {
      errors.add(a.error());
    }
    if (!errors.isEmpty()) {
      throw new OperationFailure(ErrorReason.GpuRestoreFailed, String.join("; ", errors));
    }
    if (pids.isEmpty()) {
      String freshSaid =
          a.processes().stream()
              .map(p -> p.pid() + ": " + (p.note().isEmpty() ? p.initial() : p.note()))
              .collect(java.util.stream.Collectors.joining("; "));
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "no process of tree "
              + tree
              + " has checkpointed CUDA state: nothing to activate ("
              + agentSaid
              + "; a fresh process: "
              + freshSaid
              + ")");
    }
    Map<String, Long> timings = new LinkedHashMap<>();
    timings.put("gpuRestore", Math.round(restoreMs));
    if (unlock) {
      timings.put("gpuUnlock", Math.round(unlockMs));
    }
    timings.put("freshDriver", 1L);
    timings.put(unlock ? "activate" : "gpuRestoreLocked", (System.nanoTime() - t0) / 1_000_000);
    return new Activation(pids, timings);
  }

  private static Done step(
      CudaDriver cuda, int pid, List<GpuPair> remap, boolean restore, boolean unlock)
      throws CudaException {
    long t = System.nanoTime();
    if (restore) {
      cuda.restore(pid, remap);
    }
    long restored = System.nanoTime();
    if (unlock) {
      cuda.unlock(pid);
    }
    return new Done((restored - t) / 1_000_000, (System.nanoTime() - restored) / 1_000_000);
  }
}
