package dev.warmstart.operator.agent;

import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.StoreUsage;
import java.util.Optional;

/** The node agent's operation API, addressed by node. Calls return within seconds. */
public interface NodeAgentClient {
  /** Submits (idempotently, by the request's key) and returns the operation as accepted. */
  OperationStatus submit(String nodeName, OperationRequest request)
      throws AgentUnavailableException, AgentRejectedException;

  /** The operation's current status; empty when the agent does not know the id. */
  Optional<OperationStatus> get(String nodeName, String operationId)
      throws AgentUnavailableException;

  /** Whether a ready agent runs on the node (no call to it). */
  boolean hasAgent(String nodeName);

  /**
   * The node's image store usage; empty when the agent does not report it (an agent older than this
   * call).
   */
  default Optional<StoreUsage> storeUsage(String nodeName) throws AgentUnavailableException {
    return Optional.empty();
  }
}
