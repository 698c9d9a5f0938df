package dev.warmstart.agent.ops;

import dev.warmstart.agent.proc.Procfs;
import java.io.IOException;
import java.util.List;

/** Continues tasks left stopped by an interrupted dump, so no workload stays frozen. */
final class TreeResumer {
  private final Procfs procfs;

  TreeResumer(Procfs procfs) {
    this.procfs = procfs;
  }

  /** Sends SIGCONT to each task of {@code pids} that is stopped; returns how many were. */
  int resume(List<Integer> pids) {
    int resumed = 0;
    for (int p : pids) {
      try {
        char state = procfs.state(p);
        if (state == 'T' || state == 't') {
          new ProcessBuilder("kill", "-CONT", Integer.toString(p)).start().waitFor();
          resumed++;
        }
      } catch (IOException e) {
        // the task is gone: nothing to resume
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return resumed;
  }
}
