package dev.warmstart.agent.ops;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A restore to run now.
 *
 * @param intoContainer running placeholder container to restore into; empty: onto the host
 * @param targetGpus GPU UUIDs to restore onto (a placeholder pod's); empty: chosen by the agent
 * @param prepareOnly stop after CRIU: the tree runs with its CUDA state still checkpointed, holding
 *     no GPU memory, until {@link RestoreService#activate} brings it back
 */
public record RestoreCommand(
    String imageName,
    Optional<String> intoContainer,
    List<String> targetGpus,
    boolean prepareOnly,
    Duration timeout) {

  public static RestoreCommand full(String imageName, Optional<String> into, Duration timeout) {
    return new RestoreCommand(imageName, into, List.of(), false, timeout);
  }
}
