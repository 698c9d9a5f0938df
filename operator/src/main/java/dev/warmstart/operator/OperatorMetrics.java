package dev.warmstart.operator;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Map;

/**
 * Operation metrics on the Prometheus endpoint, named by Prometheus conventions (the dashboard and
 * alerts in helm/warmstart use these names; MetricNamesTest keeps them in step):
 *
 * <ul>
 *   <li>{@code warmstart_operations_total{kind,result}}: finished operations; result is "succeeded"
 *       or the failure's condition reason (a fixed set), so failures by reason
 *   <li>{@code warmstart_operation_duration_seconds{kind}}: histogram, dispatch to outcome
 *   <li>{@code warmstart_phase_duration_seconds{kind,phase,gpu_model}}: histogram of the agent's
 *       per-phase timings (dump, store, criuRestore, gpuRestore...)
 *   <li>{@code warmstart_checkpoint_size_bytes{gpu_model}}: histogram of image sizes
 * </ul>
 *
 * No resource names as labels: they are unbounded; kind, result, phase and GPU model are not.
 */
@ApplicationScoped
public class OperatorMetrics {
  /** The gpu_model of CPU-only workloads and of operations whose GPU is not known. */
  public static final String NO_GPU = "none";

  private static final Duration[] SECONDS_BUCKETS = {
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofSeconds(60),
    Duration.ofSeconds(120),
    Duration.ofSeconds(300),
    Duration.ofSeconds(600)
  };
  private static final double[] BYTES_BUCKETS = {
    16.0 * (1 << 20),
    64.0 * (1 << 20),
    256.0 * (1 << 20),
    1.0 * (1 << 30),
    4.0 * (1 << 30),
    16.0 * (1 << 30),
    64.0 * (1 << 30),
    256.0 * (1 << 30)
  };

  private final MeterRegistry registry;

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** One finished operation; {@code result} is "succeeded" or a condition reason. */
  public void finished(String kind, String result, Duration took) {
    registry.counter("warmstart.operations", "kind", kind, "result", result).increment();
    if (took != null) {
      Timer.builder("warmstart.operation.duration")
          .description("Time from dispatch to the outcome of an agent operation")
          .tag("kind", kind)
          .serviceLevelObjectives(SECONDS_BUCKETS)
          .register(registry)
          .record(took);
    }
  }

  /** The agent's per-phase timings (milliseconds) of a finished operation. */
  public void phases(String kind, String gpuModel, Map<String, Long> millisByPhase) {
    if (millisByPhase == null) {
      return;
    }
    millisByPhase.forEach(
        (phase, ms) -> {
          if (ms != null && !"total".equals(phase)) {
            Timer.builder("warmstart.phase.duration")
                .description("Duration of one phase of an agent operation")
                .tag("kind", kind)
                .tag("phase", phase)
                .tag("gpu_model", gpuModel == null ? NO_GPU : gpuModel)
                .serviceLevelObjectives(SECONDS_BUCKETS)
                .register(registry)
                .record(Duration.ofMillis(ms));
          }
        });
  }

  public void checkpointSize(long bytes, String gpuModel) {
    DistributionSummary.builder("warmstart.checkpoint.size")
        .description("Size of a stored checkpoint image")
        .baseUnit("bytes")
        .tag("gpu_model", gpuModel == null ? NO_GPU : gpuModel)
        .serviceLevelObjectives(BYTES_BUCKETS)
        .register(registry)
        .record(bytes);
  }
}
