package dev.warmstart.agent.metrics;

import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.StoreUsage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * The agent's gauges, named by Prometheus conventions and labelled with the node (the dashboard and
 * alerts in helm/warmstart use these names; AgentMetricNamesTest keeps them in step):
 *
 * <ul>
 *   <li>{@code warmstart_node_store_capacity_bytes}, {@code warmstart_node_store_free_bytes}
 *       (usable by the agent), {@code warmstart_node_store_used_bytes} (the store's files)
 *   <li>{@code warmstart_agent_operations_in_flight{kind}}: accepted or running operations
 * </ul>
 */
public final class AgentMeters {
  private AgentMeters() {}

  public static void register(
      MeterRegistry registry,
      String node,
      StoreUsageProbe store,
      Supplier<? extends Iterable<OperationStatus>> operations) {
    storeGauge(
        registry,
        node,
        store,
        "capacity",
        "Size of the filesystem of the image store",
        StoreUsage::capacityBytes);
    storeGauge(
        registry, node, store, "free", "Bytes a new image can still take", StoreUsage::usableBytes);
    storeGauge(
        registry, node, store, "used", "Bytes of the image store's files", StoreUsage::imagesBytes);
    for (OperationKind kind : OperationKind.values()) {
      Gauge.builder(
              "warmstart.agent.operations.in.flight", operations, ops -> inFlight(ops.get(), kind))
          .description("Operations accepted or running on the agent")
          .strongReference(true) // the supplier lives only here; a weak one would be collected
          .tag("node", node)
          .tag("kind", kind.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
  }

  private static void storeGauge(
      MeterRegistry registry,
      String node,
      StoreUsageProbe store,
      String what,
      String description,
      ToLongFunction<StoreUsage> value) {
    Gauge.builder("warmstart.node.store." + what, store, s -> read(s, value))
        .description(description)
        .baseUnit("bytes")
        .strongReference(true) // a weakly held probe can be collected and the series vanish
        .tag("node", node)
        .register(registry);
  }

  private static double read(StoreUsageProbe store, ToLongFunction<StoreUsage> value) {
    try {
      return value.applyAsLong(store.read());
    } catch (RuntimeException e) {
      return Double.NaN; // no store (yet): the series says so rather than a false 0
    }
  }

  private static double inFlight(Iterable<OperationStatus> ops, OperationKind kind) {
    int n = 0;
    for (OperationStatus o : ops) {
      if (o.kind() == kind && !o.state().isTerminal()) {
        n++;
      }
    }
    return n;
  }
}
