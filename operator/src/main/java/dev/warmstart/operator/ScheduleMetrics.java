package dev.warmstart.operator;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Schedule metrics: {@code warmstart_schedule_runs_total{result}} (created, or the skip reason) and
 * {@code warmstart_schedule_checkpoints_deleted_total} (retention).
 */
@ApplicationScoped
public class ScheduleMetrics {
  private final MeterRegistry registry;

  public ScheduleMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** A due run; {@code result} is "created" or a skip reason. */
  public void run(String result) {
    registry.counter("warmstart.schedule.runs", "result", result).increment();
  }

  public void deleted(int checkpoints) {
    registry.counter("warmstart.schedule.checkpoints.deleted").increment(checkpoints);
  }
}
