package dev.warmstart.operator.status;

import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.List;

/** Owns the GpuStandbyPool status: counts, the standby list and its Ready condition. */
@ApplicationScoped
public class PoolStatusFactory {
  private final Clock clock;

  public PoolStatusFactory(Clock clock) {
    this.clock = clock;
  }

  public GpuStandbyPoolStatus observed(
      GpuStandbyPool pool, List<GpuStandbyPoolStatus.Standby> standbys, int ready) {
    int wanted = pool.getSpec().replicas();
    boolean full = ready >= wanted;
    String msg = ready + " of " + wanted + " standbys ready";
    var conditions =
        Conditions.with(
            pool.getStatus() == null ? List.of() : pool.getStatus().conditions(),
            ConditionType.Ready,
            full ? ConditionStatus.True : ConditionStatus.False,
            full ? ConditionReason.Filled : ConditionReason.Filling,
            msg,
            pool.getMetadata().getGeneration(),
            clock);
    return new GpuStandbyPoolStatus(
        pool.getMetadata().getGeneration(), ready, standbys.size(), standbys, conditions);
  }

  /** The operator failed unexpectedly on this pool; the reconcile is retried. */
  public GpuStandbyPoolStatus reconcileError(GpuStandbyPool pool, String message) {
    GpuStandbyPoolStatus s = pool.getStatus();
    var conditions =
        Conditions.with(
            s == null ? List.of() : s.conditions(),
            ConditionType.Ready,
            ConditionStatus.Unknown,
            ConditionReason.ReconcileError,
            message,
            pool.getMetadata().getGeneration(),
            clock);
    return s == null
        ? new GpuStandbyPoolStatus(pool.getMetadata().getGeneration(), 0, 0, List.of(), conditions)
        : new GpuStandbyPoolStatus(
            pool.getMetadata().getGeneration(), s.ready(), s.total(), s.standbys(), conditions);
  }
}
