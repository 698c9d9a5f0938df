package dev.warmstart.operator;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.StoreUsage;
import dev.warmstart.operator.agent.AgentRejectedException;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.support.FakeAgents;
import io.quarkus.test.Mock;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/** In @QuarkusTest runs the operator talks to fake agents (no nodes here); node "gpu-1" has one. */
@Mock
@ApplicationScoped
public class FakeAgentBean implements NodeAgentClient {
  public final FakeAgents fake = new FakeAgents();

  public FakeAgentBean() {
    fake.nodesWithAgent.add("gpu-1");
  }

  /** The fake behind the bean (a field read through the injected client proxy is the proxy's). */
  public FakeAgents fake() {
    return fake;
  }

  @Override
  public OperationStatus submit(String node, OperationRequest r)
      throws AgentUnavailableException, AgentRejectedException {
    return fake.submit(node, r);
  }

  @Override
  public Optional<OperationStatus> get(String node, String id) throws AgentUnavailableException {
    return fake.get(node, id);
  }

  @Override
  public Optional<StoreUsage> storeUsage(String node) throws AgentUnavailableException {
    return fake.storeUsage(node);
  }

  @Override
  public boolean hasAgent(String node) {
    return fake.hasAgent(node);
  }
}
