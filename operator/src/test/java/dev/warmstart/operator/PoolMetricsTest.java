package dev.warmstart.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolSpec;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import dev.warmstart.api.v1alpha1.StandbyMode;
import dev.warmstart.operator.support.MutableClock;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pool gauges sum per namespace and tier, count empty pools, and forget deleted pools. */
class PoolMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final MutableClock clock = new MutableClock();
  private final PoolMetrics metrics = new PoolMetrics(registry, clock);

  private static GpuStandbyPool pool(String name, int replicas, StandbyMode tier) {
    GpuStandbyPool p = new GpuStandbyPool();
    p.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ml").build());
    p.setSpec(new GpuStandbyPoolSpec("ck", replicas, tier, null));
    return p;
  }

  private static GpuStandbyPoolStatus status(int ready, int total) {
    return new GpuStandbyPoolStatus(1L, ready, total, List.of(), List.of());
  }

  private double gauge(String name, String tier) {
    var search = registry.find(name).tag("namespace", "ml");
    return (tier == null ? search : search.tag("tier", tier)).gauge().value();
  }

  @Test
  void sumsPerNamespaceAndTierAndCountsPoolsWithoutAReadyStandby() {
    metrics.observed(pool("a", 2, StandbyMode.Hot), status(2, 2));
    metrics.observed(pool("b", 3, StandbyMode.Hot), status(0, 1));
    metrics.observed(pool("c", 1, StandbyMode.Warm), status(1, 1));
    metrics.observed(pool("idle", 0, StandbyMode.Warm), status(0, 0));

    assertThat(gauge("warmstart.standby.pool.ready.standbys", "Hot")).isEqualTo(2.0);
    assertThat(gauge("warmstart.standby.pool.standbys", "Hot")).isEqualTo(3.0);
    assertThat(gauge("warmstart.standby.pool.desired.standbys", "Hot")).isEqualTo(5.0);
    assertThat(gauge("warmstart.standby.pool.ready.standbys", "Warm")).isEqualTo(1.0);
    assertThat(gauge("warmstart.standby.pools.without.ready", null)).isEqualTo(1.0);

    metrics.observed(pool("b", 3, StandbyMode.Hot), status(1, 3));
    assertThat(gauge("warmstart.standby.pools.without.ready", null)).isZero();
  }

  @Test
  void aPoolNotSeenForFiveMinutesDropsOut() {
    metrics.observed(pool("gone", 2, StandbyMode.Hot), status(0, 0));
    assertThat(gauge("warmstart.standby.pools.without.ready", null)).isEqualTo(1.0);
    clock.advance(Duration.ofMinutes(6));
    assertThat(gauge("warmstart.standby.pools.without.ready", null)).isZero();
    assertThat(gauge("warmstart.standby.pool.desired.standbys", "Hot")).isZero();
  }
}
