package dev.warmstart.agent.restore;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.PageVerification;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The agent's side of the plugin's integrity gate (native-plugin/src/gate.h): CRIU restores while
 * the page files are hashed; once the plugin asks (the tree restored and held stopped, every page
 * read), the gate answers {@code ok} only if the digests matched and no page file changed since
 * they were taken, else {@code failed}, and the plugin kills the tree before it runs.
 */
final class VerificationGate implements AutoCloseable {
  private static final long POLL_MS = 1;

  private final Path prefix;
  private final PageVerification pages;
  private final Duration timeout;
  private final Thread answerer;
  private volatile OperationFailure failure;
  private volatile long heldMs = -1;
  private volatile boolean closed;

  private VerificationGate(Path prefix, PageVerification pages, Duration timeout) {
    this.prefix = prefix;
    this.pages = pages;
    this.timeout = timeout;
    this.answerer = new Thread(this::answer, "gate-" + prefix.getParent().getFileName());
    this.answerer.setDaemon(true);
  }

  /** A gate in {@code workDir} for the plugin to wait on; answers once asked. */
  static VerificationGate open(Path workDir, PageVerification pages, Duration timeout) {
    VerificationGate gate = new VerificationGate(workDir.resolve("verify"), pages, timeout);
    gate.answerer.start();
    return gate;
  }

  /** The path prefix the plugin gets as WARMSTART_VERIFY_GATE. */
  Path prefix() {
    return prefix;
  }

  private void answer() {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean ok = false;
    try {
      Path request = file("request");
      while (!Files.exists(request)) {
        if (System.nanoTime() > deadline) {
          throw new IOException("the restore never reached the integrity gate");
        }
        Thread.sleep(POLL_MS);
      }
      long asked = System.nanoTime();
      // CRIU has read every page by now: the digests and the files' identities are checked once.
      pages.awaitVerified(Duration.ofNanos(Math.max(0, deadline - asked)));
      ok = true;
      heldMs = (System.nanoTime() - asked) / 1_000_000;
    } catch (ImageIntegrityException e) {
      failure = new OperationFailure(ErrorReason.ImageIntegrityFailed, e.getMessage(), e);
    } catch (IOException e) {
      failure =
          closed
              ? new OperationFailure(
                  ErrorReason.Interrupted, "the restore ended before verification")
              : new OperationFailure(
                  ErrorReason.ImageIntegrityFailed, "image not verified: " + e.getMessage());
    } catch (InterruptedException e) {
      failure = new OperationFailure(ErrorReason.Interrupted, "verification interrupted", e);
    } finally {
      try {
        Files.createFile(file(ok ? "ok" : "failed"));
      } catch (IOException e) {
        // the plugin times out and kills the tree: it never runs unverified
      }
    }
  }

  /** Why the image failed verification, once the restore has ended. */
  Optional<OperationFailure> failure() {
    return Optional.ofNullable(failure);
  }

  /** How long the restored tree was held waiting for the verdict, if it was asked. */
  Optional<Long> heldMs() {
    return heldMs < 0 ? Optional.empty() : Optional.of(heldMs);
  }

  private Path file(String suffix) {
    return prefix.resolveSibling(prefix.getFileName() + "." + suffix);
  }

  /** Stops waiting (the restore ended) and settles the verdict of a restore that never asked. */
  @Override
  public void close() throws InterruptedException {
    closed = true;
    answerer.interrupt();
    answerer.join();
  }
}
