package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** One CUDA process of a checkpointed workload, as the driver saw it before the capture. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuProcess(
    @JsonPropertyDescription("PID on the source node.") Integer pid,
    @JsonPropertyDescription("The driver's checkpoint state before the capture, e.g. RUNNING.")
        String cudaState,
    @JsonPropertyDescription("GPU memory the process held, in bytes, where the driver said.")
        Long memoryBytes,
    @JsonPropertyDescription("UUIDs of the GPUs the process held memory on.") List<String> uuids) {}
