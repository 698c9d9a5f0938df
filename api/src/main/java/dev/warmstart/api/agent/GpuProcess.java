package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One CUDA process of a checkpointed workload, as the driver saw it before the capture.
 *
 * @param pid PID on the source node
 * @param cudaState the driver's checkpoint state before the capture, e.g. RUNNING
 * @param memoryBytes GPU memory the process held, where the driver said
 * @param uuids the GPUs the process held memory on
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuProcess(Integer pid, String cudaState, Long memoryBytes, List<String> uuids) {}
