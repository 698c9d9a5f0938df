package dev.warmstart.agent;

import dev.warmstart.agent.gpu.GpuReport;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.WarmContextPool;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Starts the warm pool with the agent (not on first use: the point is that no restore pays for it)
 * and reports it: gauges per GPU, and a readiness check that fails only when the pool was asked for
 * and a context could not be held.
 */
@ApplicationScoped
@Readiness
public class GpuObservability implements HealthCheck {
  private final GpuRuntime gpus;
  private final WarmContextPool pool;
  private final AgentConfig config;

  public GpuObservability(GpuRuntime gpus, WarmContextPool pool, AgentConfig config) {
    this.gpus = gpus;
    this.pool = pool;
    this.config = config;
  }

  void start(@Observes StartupEvent event, MeterRegistry registry) {
    Gauge.builder("warmstart.agent.gpus", gpus, g -> g.devices().size())
        .description("GPUs the agent sees")
        .register(registry);
    for (WarmContextPool.WarmContext c : pool.contexts()) {
      Gauge.builder("warmstart.agent.warm.context", c, w -> w.held() ? 1 : 0)
          .tag("gpu", c.uuid())
          .description("1 while the agent holds a warm CUDA context on the GPU")
          .register(registry);
      Gauge.builder("warmstart.agent.warm.context.retain.seconds", c, w -> w.retainMs() / 1000.0)
          .tag("gpu", c.uuid())
          .description("time it took to create the warm context")
          .register(registry);
    }
  }

  @Override
  public HealthCheckResponse call() {
    GpuReport report = GpuReport.of(gpus, pool);
    boolean poolWanted = gpus.available() && config.gpu().warmPool();
    boolean up =
        !poolWanted || pool.contexts().stream().allMatch(WarmContextPool.WarmContext::held);
    var b =
        HealthCheckResponse.named("gpu")
            .status(up)
            .withData("gpus", report.devices().size())
            .withData("warmContexts", pool.heldCount());
    if (report.unavailableReason() != null) {
      b.withData("cpuOnly", report.unavailableReason());
    }
    return b.build();
  }
}
