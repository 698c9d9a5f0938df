package dev.warmstart.operator.agent;

import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.util.Optional;

/** Finds the ready node agent pod of a node and its API address (HTTPS, by pod IP). */
@ApplicationScoped
public class AgentDirectory {
  private final KubernetesClient client;
  private final OperatorConfig config;

  public AgentDirectory(KubernetesClient client, OperatorConfig config) {
    this.client = client;
    this.config = config;
  }

  public Optional<Pod> agentOn(String nodeName) {
    return client
        .pods()
        .inNamespace(config.agentNamespace())
        .withLabelSelector(config.agentSelector())
        .list()
        .getItems()
        .stream()
        .filter(p -> nodeName.equals(p.getSpec().getNodeName()))
        .filter(AgentDirectory::ready)
        .findFirst();
  }

  public URI baseUri(String nodeName) throws AgentUnavailableException {
    Pod pod =
        agentOn(nodeName)
            .orElseThrow(
                () ->
                    new AgentUnavailableException(
                        ConditionReason.NoAgentOnNode,
                        "no ready Warmstart agent on node " + nodeName));
    String ip = pod.getStatus().getPodIP();
    if (ip == null || ip.isBlank()) {
      throw new AgentUnavailableException(
          ConditionReason.NoAgentOnNode, "the agent on node " + nodeName + " has no IP yet");
    }
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    return URI.create("https://" + host + ":" + config.agentPort());
  }

  private static boolean ready(Pod p) {
    return p.getStatus() != null
        && "Running".equals(p.getStatus().getPhase())
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
