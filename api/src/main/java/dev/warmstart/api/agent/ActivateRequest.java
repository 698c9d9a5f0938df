package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Bring back the GPU state of a prepared restore: the driver copies its GPU memory back (onto
 * {@code targetGpuUuids}, if given, else the GPUs the prepare chose) and unlocks it.
 *
 * @param restoreOperationId the RESTORE operation that ran with {@code prepareOnly}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ActivateRequest(
    String restoreOperationId, List<String> targetGpuUuids, int timeoutSeconds) {}
