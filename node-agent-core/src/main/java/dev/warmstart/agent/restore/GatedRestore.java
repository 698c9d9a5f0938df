package dev.warmstart.agent.restore;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Timings;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.RestoreSpec;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.OpenedImage;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * CRIU's restore with the image's pages proven first: while they are hashed the plugin holds the
 * restored tree (or, without the plugin's gate, the restore waits for them). A restore that failed
 * verification reports that, whatever CRIU says.
 */
final class GatedRestore {
  private final CriuRunner criu;

  GatedRestore(CriuRunner criu) {
    this.criu = criu;
  }

  /** Without the plugin's gate nothing can hold the tree: the pages are proven before CRIU runs. */
  void verifyUngated(OpenedImage opened, Duration timeout) throws OperationFailure {
    if (criu.hasIntegrityGate()) {
      return;
    }
    try {
      opened.pages().awaitVerified(timeout);
    } catch (ImageIntegrityException e) {
      throw new OperationFailure(ErrorReason.ImageIntegrityFailed, e.getMessage(), e);
    } catch (IOException e) {
      throw new OperationFailure(ErrorReason.Internal, "verifying the image: " + e.getMessage(), e);
    }
  }

  void restore(RestoreSpec spec, OpenedImage opened, Duration timeout, Timings timings)
      throws OperationFailure {
    if (!criu.hasIntegrityGate()) {
      criu.restore(spec, timeout);
      return;
    }
    VerificationGate gate = VerificationGate.open(spec.workDir(), opened.pages(), timeout);
    OperationFailure failed = null;
    try {
      criu.restore(spec, timeout, Optional.of(gate.prefix()));
    } catch (OperationFailure e) {
      failed = e;
    } finally {
      try {
        gate.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Optional<OperationFailure> integrity =
        gate.failure().filter(f -> f.reason() == ErrorReason.ImageIntegrityFailed);
    if (integrity.isPresent()) {
      throw integrity.get();
    }
    if (failed != null) {
      throw failed;
    }
    timings.put("verifyPages", opened.pages().hashing().toMillis());
    gate.heldMs().ifPresent(ms -> timings.put("verifyHeld", ms));
  }
}
