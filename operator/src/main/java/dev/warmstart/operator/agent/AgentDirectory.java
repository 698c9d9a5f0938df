package dev.warmstart.operator.agent;

import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the ready node agent pod of a node and its API address (by pod IP). The agent pods come
 * from an informer indexed by node name, started on first use: an agent call reads the cache, not
 * the API server.
 */
@ApplicationScoped
public class AgentDirectory {
  private static final String BY_NODE = "byNode";

  private final KubernetesClient client;
  private final OperatorConfig config;
  private SharedIndexInformer<Pod> informer;

  public AgentDirectory(KubernetesClient client, OperatorConfig config) {
    this.client = client;
    this.config = config;
  }

  public Optional<Pod> agentOn(String nodeName) {
    return agentPods().getIndexer().byIndex(BY_NODE, nodeName).stream()
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

  /** The informer, started (and synced) on first use; run() throws if it cannot list them. */
  private synchronized SharedIndexInformer<Pod> agentPods() {
    if (informer == null) {
      SharedIndexInformer<Pod> i =
          client
              .pods()
              .inNamespace(config.agentNamespace())
              .withLabelSelector(config.agentSelector())
              .runnableInformer(0);
      i.addIndexers(Map.of(BY_NODE, AgentDirectory::node));
      informer = i.run();
    }
    return informer;
  }

  @PreDestroy
  synchronized void stop() {
    if (informer != null) {
      informer.stop();
    }
  }

  private static List<String> node(Pod p) {
    return p.getSpec() == null || p.getSpec().getNodeName() == null
        ? List.of()
        : List.of(p.getSpec().getNodeName());
  }

  private static boolean ready(Pod p) {
    return p.getStatus() != null
        && "Running".equals(p.getStatus().getPhase())
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
