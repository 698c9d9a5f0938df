package dev.warmstart.agent.api;

import dev.warmstart.agent.gpu.GpuReport;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.WarmContextPool;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** This node's GPUs and the agent's warm contexts on them. */
@Path("/v1/gpus")
@Produces(MediaType.APPLICATION_JSON)
public class GpusResource {
  private final GpuRuntime gpus;
  private final WarmContextPool pool;

  public GpusResource(GpuRuntime gpus, WarmContextPool pool) {
    this.gpus = gpus;
    this.pool = pool;
  }

  @GET
  public GpuReport get() {
    return GpuReport.of(gpus, pool);
  }
}
