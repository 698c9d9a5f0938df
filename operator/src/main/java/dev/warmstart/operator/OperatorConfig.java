package dev.warmstart.operator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;

/** The operator's settings (application.properties, env WARMSTART_OPERATOR_*, Helm values). */
@ConfigMapping(prefix = "warmstart.operator")
public interface OperatorConfig {
  /** Namespace of the node agent pods (the Helm release's). */
  @WithDefault("warmstart-system")
  String agentNamespace();

  /** Label selector of the node agent pods. */
  @WithDefault("app.kubernetes.io/component=agent")
  String agentSelector();

  /** Port of the agents' HTTP API. */
  @WithDefault("8443")
  int agentPort();

  /** Projected ServiceAccount token for the agents' audience, re-read on every call (rotation). */
  @WithDefault("/var/run/secrets/warmstart/agent-token")
  Path agentTokenPath();

  /** The CA (PEM) that signed the agents' certificates; re-read on every call (rotation). */
  @WithDefault("/etc/warmstart/agent-ca/ca.crt")
  Path agentCaPath();

  /**
   * The name the agents' certificates are issued for. The operator reaches agents by pod IP, so it
   * checks this name in the certificate instead of the address.
   */
  @WithDefault("warmstart-agent.warmstart-system.svc")
  String agentServerName();

  /** How often an operation in flight is polled. */
  @WithDefault("2s")
  Duration pollInterval();

  /** Dispatch attempts (agent missing or unreachable) before giving up. */
  @WithDefault("6")
  int maxAttempts();

  /** First retry delay; doubles per attempt. */
  @WithDefault("5s")
  Duration retryBackoff();

  /** Image whose /opt/warmstart/bin/pause a placeholder's init container copies (the agent's). */
  @WithDefault("ghcr.io/warmstart/node-agent:latest")
  String placeholderImage();

  /** How long a placeholder pod may take to start before the restore fails. */
  @WithDefault("10m")
  Duration placeholderTimeout();
}
