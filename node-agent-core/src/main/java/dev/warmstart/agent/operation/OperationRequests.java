package dev.warmstart.agent.operation;

import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.OperationRequest;

/** What a request must hold to be accepted, and which image it works on. */
final class OperationRequests {
  private OperationRequests() {}

  /** Refuses (IllegalArgumentException, HTTP 400) a request that cannot run as sent. */
  static void validate(OperationRequest r) {
    if (r == null || r.kind() == null) {
      throw new IllegalArgumentException(
          "request needs a kind: CHECKPOINT, RESTORE, ACTIVATE or DELETE_IMAGE");
    }
    if (r.idempotencyKey() == null
        || r.idempotencyKey().isBlank()
        || r.idempotencyKey().length() > 253) {
      throw new IllegalArgumentException("idempotencyKey is required (at most 253 characters)");
    }
    switch (r.kind()) {
      case CHECKPOINT -> {
        CheckpointRequest c = r.checkpoint();
        if (c == null || c.target() == null) {
          throw new IllegalArgumentException("a CHECKPOINT needs checkpoint.target");
        }
        if ((c.target().pid() == null) == (c.target().containerId() == null)) {
          throw new IllegalArgumentException(
              "checkpoint.target needs exactly one of pid and containerId");
        }
        ImageStore.requireValidName(c.imageName());
        requireTimeout(c.timeoutSeconds());
      }
      case RESTORE -> {
        if (r.restore() == null) {
          throw new IllegalArgumentException("a RESTORE needs restore");
        }
        ImageStore.requireValidName(r.restore().imageName());
        requireTimeout(r.restore().timeoutSeconds());
      }
      case ACTIVATE -> {
        if (r.activate() == null || r.activate().restoreOperationId() == null) {
          throw new IllegalArgumentException("an ACTIVATE needs activate.restoreOperationId");
        }
        requireTimeout(r.activate().timeoutSeconds());
      }
      case DELETE_IMAGE -> ImageStore.requireValidName(r.deleteImageName());
    }
  }

  /** The queue an operation waits in: operations on one image run one at a time. */
  static String imageOf(OperationRequest r) {
    return switch (r.kind()) {
      case CHECKPOINT -> r.checkpoint().imageName();
      case RESTORE -> r.restore().imageName();
      case ACTIVATE -> "activate:" + r.activate().restoreOperationId();
      case DELETE_IMAGE -> r.deleteImageName();
    };
  }

  private static void requireTimeout(int seconds) {
    if (seconds < 1 || seconds > 86400) {
      throw new IllegalArgumentException(
          "timeoutSeconds must be between 1 and 86400, was " + seconds);
    }
  }
}
