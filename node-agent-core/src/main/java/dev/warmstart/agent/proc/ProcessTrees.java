package dev.warmstart.agent.proc;

/** Ends a whole process tree: a restored tree that cannot run as it should must not run at all. */
public final class ProcessTrees {
  private ProcessTrees() {}

  /** SIGKILLs {@code pid} and every descendant; a PID that is gone is ignored. */
  public static void kill(int pid) {
    ProcessHandle.of(pid)
        .ifPresent(
            h -> {
              h.descendants().forEach(ProcessHandle::destroyForcibly);
              h.destroyForcibly();
            });
  }
}
