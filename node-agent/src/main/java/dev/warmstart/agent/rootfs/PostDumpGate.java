package dev.warmstart.agent.rootfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Runs agent work while CRIU holds the dumped tree frozen: CRIU runs its {@code post-dump} action
 * script after the images are written and before it resumes (or kills) the tree, and fails the dump
 * when the script fails. The script signals the agent through a file and waits for its answer, so
 * what the agent reads then (the writable layer, open files' sizes) matches the images exactly,
 * even with {@code --leave-running}.
 */
public final class PostDumpGate implements AutoCloseable {
  /** The work to run while frozen. */
  @FunctionalInterface
  public interface FrozenWork {
    void run() throws Exception;
  }

  private final Path dir;
  private final Thread watcher;
  private volatile Exception failure;
  private volatile boolean ran;
  private volatile boolean closed;

  private PostDumpGate(Path dir, FrozenWork work, Duration timeout) {
    this.dir = dir;
    this.watcher = new Thread(() -> watch(work, timeout), "post-dump-gate");
    this.watcher.setDaemon(true);
  }

  /** A gate in {@code dir} (a private, empty work directory) running {@code work} when frozen. */
  public static PostDumpGate open(Path dir, FrozenWork work, Duration timeout) throws IOException {
    long polls = Math.max(1, timeout.toMillis() / 10);
    String script =
        "#!/bin/sh\n"
            + "[ \"$CRTOOLS_SCRIPT_ACTION\" = post-dump ] || exit 0\n"
            + "g='"
            + dir.toString().replace("'", "'\\''")
            + "'\n"
            + ": > \"$g/frozen\"\n"
            + "i=0\n"
            + "while [ ! -e \"$g/done\" ]; do\n"
            + "  i=$((i+1)); [ $i -le "
            + polls
            + " ] || exit 1\n"
            + "  sleep 0.01\n"
            + "done\n"
            + "exit \"$(cat \"$g/done\")\"\n";
    Path file = dir.resolve("post-dump.sh");
    Files.writeString(file, script);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    PostDumpGate gate = new PostDumpGate(dir, work, timeout);
    gate.watcher.start();
    return gate;
  }

  /** The {@code --action-script} for CRIU. */
  public Path script() {
    return dir.resolve("post-dump.sh");
  }

  /** Why the frozen work failed, if it ran and failed (CRIU then failed the dump). */
  public Optional<Exception> failure() {
    return Optional.ofNullable(failure);
  }

  /** Whether the frozen work ran (CRIU reached post-dump). */
  public boolean ran() {
    return ran;
  }

  private void watch(FrozenWork work, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (!Files.exists(dir.resolve("frozen"))) {
        if (closed || System.nanoTime() > deadline) {
          return;
        }
        TimeUnit.MILLISECONDS.sleep(5);
      }
      String answer = "0";
      try {
        work.run();
      } catch (Exception e) {
        failure = e;
        answer = "1";
      }
      ran = true;
      Path tmp = dir.resolve("done.tmp");
      Files.writeString(tmp, answer);
      Files.move(tmp, dir.resolve("done"), StandardCopyOption.ATOMIC_MOVE);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      failure = e; // the script times out and fails the dump
    }
  }

  /** Stops waiting (CRIU has exited) and waits for frozen work still running. */
  @Override
  public void close() throws InterruptedException {
    closed = true;
    watcher.join();
  }
}
