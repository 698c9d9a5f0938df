package dev.warmstart.agent.operation;

import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ImageSummary;
import dev.warmstart.api.agent.OperationError;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/** The one place an operation's status changes state; times come from the injected clock. */
final class StatusTransitions {
  private final Clock clock;

  StatusTransitions(Clock clock) {
    this.clock = clock;
  }

  OperationStatus accepted(String id, OperationRequest request) {
    return new OperationStatus(
        id,
        request.idempotencyKey(),
        request.kind(),
        OperationState.ACCEPTED,
        null,
        now(),
        null,
        null,
        null,
        null,
        null);
  }

  OperationStatus running(OperationStatus s, String step) {
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        OperationState.RUNNING,
        step,
        s.submittedAt(),
        null,
        s.timings(),
        s.image(),
        null,
        null);
  }

  OperationStatus succeeded(
      OperationStatus s, Map<String, Long> timings, ImageSummary image, Integer pid) {
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        OperationState.SUCCEEDED,
        null,
        s.submittedAt(),
        now(),
        new LinkedHashMap<>(timings),
        image,
        pid,
        null);
  }

  OperationStatus failed(OperationStatus s, ErrorReason reason, String message) {
    return new OperationStatus(
        s.id(),
        s.idempotencyKey(),
        s.kind(),
        OperationState.FAILED,
        s.step(),
        s.submittedAt(),
        now(),
        s.timings(),
        null,
        null,
        new OperationError(reason, message));
  }

  private String now() {
    return clock.instant().toString();
  }
}
