package dev.warmstart.agent.gpu;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.warmstart.agent.cuda.CudaDevice;
import java.util.List;

/**
 * What the agent knows of the node's GPUs: for /v1/gpus, the CLI and the health check.
 *
 * @param unavailableReason why the agent runs CPU-only; null when it has GPUs
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GpuReport(
    boolean available,
    String driverVersion,
    long cudaInitMs,
    List<CudaDevice> devices,
    List<WarmContextPool.WarmContext> warmContexts,
    String unavailableReason) {

  public static GpuReport of(GpuRuntime gpus, WarmContextPool pool) {
    return new GpuReport(
        gpus.available(),
        gpus.driverVersion(),
        gpus.cudaInitMs(),
        gpus.devices(),
        pool.contexts(),
        gpus.unavailableReason());
  }
}
