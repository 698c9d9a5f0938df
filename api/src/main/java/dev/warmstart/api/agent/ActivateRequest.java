package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Finish a standby, a restore that stopped short of {@link RestoreStage#RUNNING}, and let it run:
 * from {@link RestoreStage#PROCESSES} the driver copies the GPU memory back (onto {@code
 * targetGpuUuids}, if given, else the GPUs the restore chose) and unlocks; from {@link
 * RestoreStage#GPU_LOCKED} it only unlocks. The stage comes from the restore operation named.
 *
 * @param restoreOperationId a RESTORE operation that stopped short of {@link RestoreStage#RUNNING}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ActivateRequest(
    String restoreOperationId, List<String> targetGpuUuids, int timeoutSeconds) {}
