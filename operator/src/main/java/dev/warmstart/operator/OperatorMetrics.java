package dev.warmstart.operator;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

/**
 * Operation metrics on the Prometheus endpoint: {@code warmstart_operations_total{kind,result}},
 * {@code warmstart_operation_duration_seconds{kind}}, {@code warmstart_checkpoint_size_bytes}.
 */
@ApplicationScoped
public class OperatorMetrics {
  private final MeterRegistry registry;

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** One finished operation; {@code result} is "succeeded" or a condition reason. */
  public void finished(String kind, String result, Duration took) {
    registry.counter("warmstart.operations", "kind", kind, "result", result).increment();
    if (took != null) {
      Timer.builder("warmstart.operation.duration")
          .tag("kind", kind)
          .register(registry)
          .record(took);
    }
  }

  public void checkpointSize(long bytes) {
    DistributionSummary.builder("warmstart.checkpoint.size")
        .baseUnit("bytes")
        .register(registry)
        .record(bytes);
  }
}
