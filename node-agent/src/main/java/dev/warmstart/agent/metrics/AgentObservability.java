package dev.warmstart.agent.metrics;

import dev.warmstart.agent.AgentConfig;
import dev.warmstart.agent.ops.OperationService;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Registers the agent's store and operation gauges at start, and provides the store probe. */
@ApplicationScoped
public class AgentObservability {
  @Produces
  @Singleton
  StoreUsageProbe storeUsage(AgentConfig config) {
    return new StoreUsageProbe(config.storeRoot(), config.nodeName());
  }

  void start(
      @Observes StartupEvent event,
      MeterRegistry registry,
      AgentConfig config,
      StoreUsageProbe store,
      OperationService operations) {
    AgentMeters.register(registry, config.nodeName(), store, operations::list);
  }
}
