package dev.warmstart.operator.support;

import dev.warmstart.operator.OperatorConfig;
import java.nio.file.Path;
import java.time.Duration;

/** Operator settings for reconciler tests. */
public record TestConfig(int maxAttempts) implements OperatorConfig {
  public TestConfig() {
    this(3);
  }

  @Override
  public String agentNamespace() {
    return "warmstart-system";
  }

  @Override
  public String agentSelector() {
    return "app.kubernetes.io/component=agent";
  }

  @Override
  public int agentPort() {
    return 8443;
  }

  @Override
  public Path agentTokenPath() {
    return Path.of("/nonexistent");
  }

  @Override
  public Path agentCaPath() {
    return Path.of("/nonexistent");
  }

  @Override
  public String agentServerName() {
    return "warmstart-agent.warmstart-system.svc";
  }

  @Override
  public Duration pollInterval() {
    return Duration.ofSeconds(2);
  }

  @Override
  public Duration retryBackoff() {
    return Duration.ofSeconds(5);
  }

  @Override
  public String placeholderImage() {
    return "ghcr.io/warmstart/node-agent:test";
  }

  @Override
  public Duration placeholderTimeout() {
    return Duration.ofMinutes(10);
  }
}
