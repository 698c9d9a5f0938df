package dev.warmstart.agent.gpu;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The driver's half of a staged restore (a Warm or Hot standby): the checkpointed CUDA processes of
 * a tree get their GPU memory back, and are unlocked unless a Hot standby keeps them locked.
 *
 * <p>The work is the native plugin's, not the agent's: a Cold restore does it inside CRIU, and a
 * staged one runs the plugin's {@code warmstart-cuda} tool (native-plugin/src/ctl.c, the same C
 * code) in a fresh process. Measured on an H200 (bench/gpu-restore-owner.sh), a Cold restore is
 * 170-390 ms faster to its first answer with the plugin owning it than with the agent restoring
 * after CRIU; a Warm activation is within noise either way, a Hot one costs 17 ms more in a fresh
 * process (exec and cuInit beside the warm context) than in the agent's driver, whose long-lived
 * state can moreover go stale for a PID that a restore reused. So one owner: the C code.
 */
public final class GpuActivator {
  private final FreshDriver tool;

  public GpuActivator(FreshDriver tool) {
    this.tool = tool;
  }

  /** What an activation did: the CUDA processes and step times in ms (slowest process). */
  public record Activation(List<Integer> pids, Map<String, Long> timings) {}

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
    if (!tool.available()) {
      throw new OperationFailure(
          ErrorReason.IncompatibleGpu,
          "cannot restore GPU state: the plugin's "
              + FreshDriver.TOOL
              + " is not installed in the plugin directory");
    }
    long t0 = System.nanoTime();
    FreshDriver.Answer a;
    try {
      a = tool.activate(tree, remap, !unlock, timeout);
    } catch (FreshDriver.NoAnswerInTime e) {
      throw new OperationFailure(
          ErrorReason.Timeout, "the driver did not restore tree " + tree + " within " + timeout);
    } catch (InterruptedIOException e) {
      throw new OperationFailure(ErrorReason.Interrupted, "activation interrupted", e);
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.GpuRestoreFailed, "activation failed: " + e.getMessage());
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
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "no process of tree "
              + tree
              + " has checkpointed CUDA state: nothing to activate (the driver: "
              + a.processes().stream()
                  .map(
                      p ->
                          p.pid()
                              + ": "
                              + (p.note() == null || p.note().isEmpty() ? p.initial() : p.note()))
                  .collect(Collectors.joining("; "))
              + ")");
    }
    Map<String, Long> timings = new LinkedHashMap<>();
    timings.put("gpuRestore", Math.round(restoreMs));
    if (unlock) {
      timings.put("gpuUnlock", Math.round(unlockMs));
    }
    timings.put(unlock ? "activate" : "gpuRestoreLocked", (System.nanoTime() - t0) / 1_000_000);
    return new Activation(pids, timings);
  }
}
