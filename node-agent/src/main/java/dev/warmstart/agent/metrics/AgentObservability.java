package dev.warmstart.agent.metrics;

import dev.warmstart.agent.AgentConfig;
import dev.warmstart.agent.operation.OperationService;
import io.micrometer.core.instrument.binder.MeterBinder;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Provides the store probe and the agent's gauges as a {@link MeterBinder}: Quarkus binds it to
 * every registry it creates, so the gauges exist from the first scrape on.
 */
@ApplicationScoped
public class AgentObservability {
  @Produces
  @Singleton
  StoreUsageProbe storeUsage(AgentConfig config) {
    return new StoreUsageProbe(config.storeRoot(), config.nodeName());
  }

  @Produces
  @Singleton
  MeterBinder agentMeters(AgentConfig config, StoreUsageProbe store, OperationService operations) {
    return registry -> AgentMeters.register(registry, config.nodeName(), store, operations::list);
  }
}
