package dev.warmstart.agent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.StoreUsage;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every agent metric ({@code warmstart_node_*}, {@code warmstart_agent_*}) the shipped Grafana
 * dashboard and PrometheusRule query is exported: the agent's gauges are registered over a real
 * store directory into a Prometheus registry and scraped. (The operator's names: operator's
 * MetricNamesTest.)
 */
class AgentMetricNamesTest {
  private static final Pattern NAME = Pattern.compile("\\bwarmstart_(node|agent)_[a-z0-9_]+");

  @TempDir Path store;

  private static Path chart() {
    String root = System.getProperty("warmstart.repo.root");
    return (root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize())
        .resolve("helm/warmstart");
  }

  private static Set<String> agentNamesUsed() throws IOException {
    List<String> exprs = new ArrayList<>();
    new ObjectMapper()
        .readTree(chart().resolve("dashboards/warmstart.json").toFile())
        .findValues("expr")
        .forEach(e -> exprs.add(e.asText()));
    for (String line : Files.readAllLines(chart().resolve("templates/prometheusrule.yaml"))) {
      if (line.strip().startsWith("expr:")) {
        exprs.add(line);
      }
    }
    Set<String> names = new TreeSet<>();
    for (String e : exprs) {
      Matcher m = NAME.matcher(e);
      while (m.find()) {
        names.add(m.group());
      }
    }
    return names;
  }

  private static OperationStatus op(OperationKind kind, OperationState state) {
    return new OperationStatus(
        "id", "key", kind, state, null, "2026-11-24T10:00:00Z", null, null, null, null, null);
  }

  @Test
  void everyAgentMetricTheDashboardAndAlertsUseIsExported() throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<OperationStatus> ops =
        List.of(
            op(OperationKind.CHECKPOINT, OperationState.RUNNING),
            op(OperationKind.CHECKPOINT, OperationState.ACCEPTED),
            op(OperationKind.RESTORE, OperationState.SUCCEEDED));
    AgentMeters.register(registry, "gpu-1", new StoreUsageProbe(store, "gpu-1"), () -> ops);
    System.gc(); // gauges must hold their state: nothing else references the supplier
    String scrape = registry.scrape();
    Set<String> exported =
        scrape
            .lines()
            .filter(l -> !l.startsWith("#") && !l.isBlank())
            .map(l -> l.split("[{ ]", 2)[0])
            .collect(Collectors.toSet());

    Set<String> used = agentNamesUsed();
    assertThat(used).as("agent metrics the dashboard and alerts use").hasSizeGreaterThan(3);
    assertThat(exported).containsAll(used);
    assertThat(scrape)
        .contains("warmstart_agent_operations_in_flight{kind=\"checkpoint\",node=\"gpu-1\",} 2.0")
        .contains("warmstart_agent_operations_in_flight{kind=\"restore\",node=\"gpu-1\",} 0.0");
  }

  @Test
  void theStoreProbeCountsTheStoresFilesAndTheFilesystemsRoom() throws IOException {
    Files.createDirectories(store.resolve("ml.ck"));
    Files.write(store.resolve("ml.ck/pages-1.img"), new byte[300_000]);
    Files.write(store.resolve("ml.ck/manifest.json"), new byte[1_000]);

    StoreUsage usage = new StoreUsageProbe(store, "gpu-1").read();

    assertThat(usage.node()).isEqualTo("gpu-1");
    assertThat(usage.imagesBytes()).isEqualTo(301_000);
    assertThat(usage.capacityBytes()).isEqualTo(Files.getFileStore(store).getTotalSpace());
    assertThat(usage.usableBytes()).isPositive().isLessThanOrEqualTo(usage.capacityBytes());
  }

  @Test
  void aMissingStoreReadsAsNoValueNotZero() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AgentMeters.register(
        registry, "gpu-1", new StoreUsageProbe(store.resolve("absent"), "gpu-1"), List::of);
    assertThat(registry.scrape()).contains("warmstart_node_store_free_bytes{node=\"gpu-1\",} NaN");
  }
}
