package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Restore a named image, either as a fresh tree on the host or into a running placeholder container
 * ({@code intoContainerId}), whose GPUs are {@code targetGpuUuids}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RestoreRequest(
    String imageName, String intoContainerId, List<String> targetGpuUuids, int timeoutSeconds) {}
