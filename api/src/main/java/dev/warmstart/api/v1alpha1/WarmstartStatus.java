package dev.warmstart.api.v1alpha1;

import java.util.List;

/**
 * What every Warmstart status has, whatever its kind: the generation it was computed from and its
 * conditions. The operator's one status factory builds conditions against this, not per kind.
 */
public interface WarmstartStatus {
  /** The metadata.generation last acted on. */
  Long observedGeneration();

  /** One condition per type, ordered by type. */
  List<Condition> conditions();

  /**
   * The status of a resource a node agent carries out (GpuCheckpoint, GpuRestore): its coarse
   * phase, the node, the agent operation and the dispatch attempts.
   */
  interface OfOperation<P extends Enum<P>> extends WarmstartStatus {
    P phase();

    String nodeName();

    String operationId();

    Integer attempts();
  }
}
