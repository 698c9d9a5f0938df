package dev.warmstart.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolSpec;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import dev.warmstart.api.v1alpha1.StandbyMode;
import dev.warmstart.operator.support.MutableClock;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every operator metric the shipped Grafana dashboard and PrometheusRule query is exported: the
 * operator's meters are started into a real Prometheus registry and scraped, and each name in the
 * dashboard's and alerts' expressions must be a sample name of that scrape. The agent's names
 * ({@code warmstart_node_*}, {@code warmstart_agent_*}) are checked the same way in node-agent's
 * AgentMetricNamesTest.
 */
public class MetricNamesTest {
  private static final Pattern NAME = Pattern.compile("\\bwarmstart_[a-z0-9_]+");

  static Path chart() {
    String root = System.getProperty("warmstart.repo.root");
    return (root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize())
        .resolve("helm/warmstart");
  }

  /** PromQL expressions of the dashboard's panels and of the alert rules. */
  static List<String> expressions() throws IOException {
    List<String> out = new ArrayList<>();
    JsonNode dashboard =
        new ObjectMapper().readTree(chart().resolve("dashboards/warmstart.json").toFile());
    dashboard.findValues("expr").forEach(e -> out.add(e.asText()));
    for (String line : Files.readAllLines(chart().resolve("templates/prometheusrule.yaml"))) {
      if (line.strip().startsWith("expr:")) {
        out.add(line.strip().substring("expr:".length()));
      }
    }
    return out;
  }

  static Set<String> metricNames(List<String> expressions) {
    Set<String> names = new TreeSet<>();
    for (String e : expressions) {
      Matcher m = NAME.matcher(e);
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }

  private static boolean agents(String name) {
    return name.startsWith("warmstart_node_") || name.startsWith("warmstart_agent_");
  }

  @Test
  void everyOperatorMetricTheDashboardAndAlertsUseIsExported() throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MutableClock clock = new MutableClock();
    OperatorMetrics ops = new OperatorMetrics(registry);
    ops.finished("checkpoint", "succeeded", Duration.ofSeconds(3));
    ops.finished("checkpoint", "NodeStoreFull", null);
    ops.phases("checkpoint", "NVIDIA H100 80GB HBM3", Map.of("dump", 900L, "store", 200L));
    ops.checkpointSize(3L << 30, "NVIDIA H100 80GB HBM3");
    GpuStandbyPool pool = new GpuStandbyPool();
    pool.setMetadata(new ObjectMetaBuilder().withName("p").withNamespace("ml").build());
    pool.setSpec(new GpuStandbyPoolSpec("ck", 2, StandbyMode.Hot, null));
    new PoolMetrics(registry, clock)
        .observed(pool, new GpuStandbyPoolStatus(1L, 0, 1, List.of(), List.of()));
    ScheduleMetrics schedules = new ScheduleMetrics(registry);
    schedules.run("created");
    schedules.deleted(2);

    Set<String> exported = samples(registry.scrape());
    Set<String> used = metricNames(expressions());
    Set<String> operators = used.stream().filter(n -> !agents(n)).collect(Collectors.toSet());

    assertThat(operators).as("operator metrics the dashboard and alerts use").hasSizeGreaterThan(8);
    assertThat(exported).as("exported by the operator").containsAll(operators);
    assertThat(used).as("agent metrics are used too").anyMatch(MetricNamesTest::agents);
  }

  @Test
  void histogramsPublishTheirBuckets() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OperatorMetrics ops = new OperatorMetrics(registry);
    ops.finished("restore", "succeeded", Duration.ofMillis(1500));
    ops.checkpointSize(1L << 30, null);
    String scrape = registry.scrape();

    assertThat(scrape)
        .contains("warmstart_operation_duration_seconds_bucket{kind=\"restore\",le=\"2.5\",} 1.0")
        .contains("warmstart_operation_duration_seconds_bucket{kind=\"restore\",le=\"1.0\",} 0.0")
        .contains(
            "warmstart_checkpoint_size_bytes_bucket{gpu_model=\"none\",le=\"1.073741824E9\",} 1.0");
  }

  /** Sample names of a Prometheus text exposition. */
  static Set<String> samples(String scrape) {
    return scrape
        .lines()
        .filter(l -> !l.startsWith("#") && !l.isBlank())
        .map(l -> l.split("[{ ]", 2)[0])
        .collect(Collectors.toCollection(TreeSet::new));
  }
}
