package dev.warmstart.operator;

import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * Standby pool gauges, summed per namespace and tier (pool names would be unbounded labels): {@code
 * warmstart_standby_pool_ready_standbys}, {@code warmstart_standby_pool_standbys} (that exist),
 * {@code warmstart_standby_pool_desired_standbys}, and {@code
 * warmstart_standby_pools_without_ready{namespace}} (pools that want standbys and have none ready,
 * for the alert). Pools reconcile every poll interval; one not seen for {@link #STALE} (deleted)
 * drops out.
 */
@ApplicationScoped
public class PoolMetrics {
  static final Duration STALE = Duration.ofMinutes(5);

  private record Key(String namespace, String name) {}

  private record Seen(
      String namespace, String tier, int ready, int total, int wanted, Instant at) {}

  private final Map<Key, Seen> pools = new ConcurrentHashMap<>();
  private final Set<String> registered = ConcurrentHashMap.newKeySet();
  private final MeterRegistry registry;
  private final Clock clock;

  public PoolMetrics(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
  }

  public void observed(GpuStandbyPool pool, GpuStandbyPoolStatus status) {
    String ns = pool.getMetadata().getNamespace();
    String tier = pool.getSpec().tier().name();
    pools.put(
        new Key(ns, pool.getMetadata().getName()),
        new Seen(
            ns,
            tier,
            status.ready() == null ? 0 : status.ready(),
            status.total() == null ? 0 : status.total(),
            pool.getSpec().replicas(),
            clock.instant()));
    if (registered.add(ns + "/" + tier)) {
      gauge("warmstart.standby.pool.ready.standbys", ns, tier, Seen::ready);
      gauge("warmstart.standby.pool.standbys", ns, tier, Seen::total);
      gauge("warmstart.standby.pool.desired.standbys", ns, tier, Seen::wanted);
    }
    if (registered.add(ns)) {
      Gauge.builder(
              "warmstart.standby.pools.without.ready",
              this,
              m ->
                  m.live()
                      .filter(s -> s.namespace().equals(ns) && s.wanted() > 0 && s.ready() == 0)
                      .count())
          .description("Pools that want standbys and have none ready")
          .strongReference(true)
          .tag("namespace", ns)
          .register(registry);
    }
  }

  private void gauge(String name, String ns, String tier, ToDoubleFunction<Seen> value) {
    Gauge.builder(
            name,
            this,
            m ->
                m.live()
                    .filter(s -> s.namespace().equals(ns) && s.tier().equals(tier))
                    .mapToDouble(value)
                    .sum())
        .tag("namespace", ns)
        .tag("tier", tier)
        .strongReference(true)
        .register(registry);
  }

  private Stream<Seen> live() {
    Instant cutoff = clock.instant().minus(STALE);
    pools.values().removeIf(s -> s.at().isBefore(cutoff));
    return pools.values().stream();
  }
}
