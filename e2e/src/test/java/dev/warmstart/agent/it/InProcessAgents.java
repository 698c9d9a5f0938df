package dev.warmstart.agent.it;

import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.operator.agent.AgentRejectedException;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.status.ConditionReason;
import java.util.Optional;

/**
 * The operator's agent client wired straight to a real node agent's operation service: the same
 * requests, idempotency and answers, without the HTTP hop (whose auth has its own tests in the
 * agent, AgentApiTest). One node, {@code node}.
 */
final class InProcessAgents implements NodeAgentClient {
  private final String node;
  private final OperationService agent;

  InProcessAgents(String node, OperationService agent) {
    this.node = node;
    this.agent = agent;
  }

  @Override
  public OperationStatus submit(String nodeName, OperationRequest request)
      throws AgentUnavailableException, AgentRejectedException {
    check(nodeName);
    try {
      return agent.submit(request);
    } catch (IllegalArgumentException | OperationService.IdempotencyConflictException e) {
      throw new AgentRejectedException(e.getMessage());
    }
  }

  @Override
  public Optional<OperationStatus> get(String nodeName, String operationId)
      throws AgentUnavailableException {
    check(nodeName);
    return agent.get(operationId);
  }

  @Override
  public boolean hasAgent(String nodeName) {
    return node.equals(nodeName);
  }

  private void check(String nodeName) throws AgentUnavailableException {
    if (!hasAgent(nodeName)) {
      throw new AgentUnavailableException(
          ConditionReason.NoAgentOnNode, "no ready Warmstart agent on node " + nodeName);
    }
  }
}
