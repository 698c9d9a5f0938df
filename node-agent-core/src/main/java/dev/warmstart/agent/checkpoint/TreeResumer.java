package dev.warmstart.agent.checkpoint;

import dev.warmstart.agent.gpu.FreshDriver;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.proc.Signals;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts back what an interrupted dump may have left on a tree: stopped tasks are continued, TCP
 * sockets still in repair mode are taken out of it, and CUDA processes still locked or checkpointed
 * get their GPU state back. CRIU undoes all of this itself when it is stopped with SIGTERM; this
 * checks that it did, and covers a CRIU that was killed.
 */
public final class TreeResumer {
  private final Procfs procfs;
  private final FreshDriver driver;

  TreeResumer(Procfs procfs) {
    this(procfs, null);
  }

  /**
   * @param driver the fresh-process CUDA tool; null: no CUDA processes to check
   */
  TreeResumer(Procfs procfs, FreshDriver driver) {
    this.procfs = procfs;
    this.driver = driver;
  }

  /** What was found left over, and put back. */
  public record Undo(
      int alive, int resumed, int socketsOutOfRepair, int cudaRestored, List<String> problems) {
    boolean nothing() {
      return resumed == 0 && socketsOutOfRepair == 0 && cudaRestored == 0 && problems.isEmpty();
    }

    /** For a failure message: what the agent had to put back, or that nothing was left. */
    public String describe() {
      if (alive == 0) {
        return "the workload is no longer running";
      }
      if (nothing()) {
        return "the workload runs as before";
      }
      List<String> parts = new ArrayList<>();
      if (resumed > 0) {
        parts.add("resumed " + resumed + " stopped task(s)");
      }
      if (socketsOutOfRepair > 0) {
        parts.add("took " + socketsOutOfRepair + " TCP socket(s) out of repair mode");
      }
      if (cudaRestored > 0) {
        parts.add("unlocked " + cudaRestored + " CUDA process(es)");
      }
      parts.addAll(problems);
      return "the agent " + String.join(", ", parts);
    }
  }

  /** Sends SIGCONT to each task of {@code pids} that is stopped; returns how many were. */
  int resume(List<Integer> pids) {
    int resumed = 0;
    for (int p : pids) {
      try {
        char state = procfs.state(p);
        if ((state == 'T' || state == 't') && Signals.send(p, Signals.SIGCONT)) {
          resumed++;
        }
      } catch (IOException e) {
        // the task is gone: nothing to resume
      }
    }
    return resumed;
  }

  /** Everything an interrupted dump of {@code pids} may have left, put back. */
  Undo undoDump(List<Integer> pids) {
    List<String> problems = new ArrayList<>();
    int cuda = 0;
    if (driver != null && driver.available()) {
      try {
        List<Integer> held =
            driver.state(pids, Duration.ofSeconds(60)).processes().stream()
                .filter(p -> "LOCKED".equals(p.state()) || "CHECKPOINTED".equals(p.state()))
                .map(FreshDriver.Proc::pid)
                .toList();
        if (!held.isEmpty()) {
          FreshDriver.Answer a = driver.activate(held, List.of(), false, Duration.ofMinutes(5));
          cuda = held.size();
          if (!a.ok()) {
            problems.add("could not unlock every CUDA process: " + a.error());
          }
        }
      } catch (IOException e) {
        problems.add("could not check the CUDA state: " + e.getMessage());
      }
    }
    int sockets = Signals.leaveTcpRepair(pids);
    int resumed = resume(pids);
    int alive = (int) pids.stream().filter(p -> ProcessHandle.of(p).isPresent()).count();
    return new Undo(alive, resumed, sockets, cuda, problems);
  }
}
