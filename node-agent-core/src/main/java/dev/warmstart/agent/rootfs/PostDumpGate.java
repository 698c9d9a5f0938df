package dev.warmstart.agent.rootfs;

import dev.warmstart.agent.criu.DumpSpec;
import java.util.Optional;

/**
 * Runs agent work while CRIU holds the dumped tree frozen: CRIU notifies the agent at post-dump,
 * after the images are written and before it resumes (or kills) the tree, and fails the dump when
 * the work fails. What the agent reads then (the writable layer, open files' sizes) matches the
 * images exactly, even with {@code --leave-running}.
 */
public final class PostDumpGate implements DumpSpec.FrozenStep {
  /** The work to run while frozen. */
  @FunctionalInterface
  public interface FrozenWork {
    void run() throws Exception;
  }

  private final FrozenWork work;
  private volatile Exception failure;
  private volatile boolean ran;

  public PostDumpGate(FrozenWork work) {
    this.work = work;
  }

  @Override
  public void run() throws Exception {
    try {
      work.run();
    } catch (Exception e) {
      failure = e;
      throw e;
    } finally {
      ran = true;
    }
  }

  /** Why the frozen work failed, if it ran and failed (CRIU then failed the dump). */
  public Optional<Exception> failure() {
    return Optional.ofNullable(failure);
  }

  /** Whether the frozen work ran (CRIU reached post-dump). */
  public boolean ran() {
    return ran;
  }
}
