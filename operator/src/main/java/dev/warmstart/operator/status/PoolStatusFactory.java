package dev.warmstart.operator.status;

import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.List;

/** The GpuStandbyPool status: counts, the standby list and its Ready condition. */
@Singleton
public class PoolStatusFactory
    extends StatusFactory<GpuStandbyPool, GpuStandbyPoolStatus, PoolStatusFactory.Builder> {

  public PoolStatusFactory(Clock clock) {
    super(clock);
  }

  public GpuStandbyPoolStatus observed(
      GpuStandbyPool pool, List<GpuStandbyPoolStatus.Standby> standbys, int ready) {
    int wanted = pool.getSpec().replicas();
    boolean full = ready >= wanted;
    String msg = ready + " of " + wanted + " standbys ready";
    Builder b = from(pool);
    b.ready = ready;
    b.total = standbys.size();
    b.standbys = standbys;
    return b.condition(
            ConditionType.Ready,
            full ? ConditionStatus.True : ConditionStatus.False,
            full ? ConditionReason.Filled : ConditionReason.Filling,
            msg)
        .build(msg);
  }

  @Override
  protected ConditionType errorCondition() {
    return ConditionType.Ready;
  }

  @Override
  protected Builder from(GpuStandbyPool pool) {
    return new Builder(pool.getMetadata().getGeneration(), pool.getStatus(), clock);
  }

  /** A pool's own fields: its counts and standbys (none before the first reconcile). */
  static final class Builder extends StatusBuilder<GpuStandbyPoolStatus, Builder> {
    Integer ready = 0;
    Integer total = 0;
    List<GpuStandbyPoolStatus.Standby> standbys = List.of();

    Builder(Long generation, GpuStandbyPoolStatus s, Clock clock) {
      super(generation, s, clock);
      if (s != null) {
        ready = s.ready();
        total = s.total();
        standbys = s.standbys();
      }
    }

    /** A pool's status has no message: its Ready condition says it. */
    @Override
    public GpuStandbyPoolStatus build(String message) {
      return new GpuStandbyPoolStatus(generation(), ready, total, standbys, conditions());
    }
  }
}
