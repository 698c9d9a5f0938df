package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * Progress and outcome of an operation, as polled by the operator.
 *
 * @param step the step running now (e.g. "dump"), for progress lines
 * @param timings milliseconds per finished step
 * @param image the image written (checkpoint) or read (restore)
 * @param restoredPid host PID of the restored tree's root, once restored
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OperationStatus(
    String id,
    String idempotencyKey,
    OperationKind kind,
    OperationState state,
    String step,
    String submittedAt,
    String finishedAt,
    Map<String, Long> timings,
    ImageSummary image,
    Integer restoredPid,
    OperationError error) {}
