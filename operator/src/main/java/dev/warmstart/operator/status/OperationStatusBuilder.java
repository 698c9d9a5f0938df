package dev.warmstart.operator.status;

import dev.warmstart.api.v1alpha1.WarmstartStatus;
import java.time.Clock;

/**
 * The fields a status shares when its resource is carried out by an agent operation: a coarse
 * phase, the node, the operation id and the dispatch attempts.
 */
public abstract class OperationStatusBuilder<
        S extends WarmstartStatus.OfOperation<P>,
        P extends Enum<P>,
        B extends OperationStatusBuilder<S, P, B>>
    extends StatusBuilder<S, B> {
  P phase;
  String node;
  String operation;
  Integer attempts = 0;

  protected OperationStatusBuilder(Long generation, S current, Clock clock) {
    super(generation, current, clock);
    if (current != null) {
      phase = current.phase();
      node = current.nodeName();
      operation = current.operationId();
      attempts = current.attempts();
    }
  }

  @SuppressWarnings("unchecked")
  B phase(P p) {
    phase = p;
    return (B) this;
  }

  /** One more dispatch attempt. */
  void attempted() {
    attempts = (attempts == null ? 0 : attempts) + 1;
  }
}
