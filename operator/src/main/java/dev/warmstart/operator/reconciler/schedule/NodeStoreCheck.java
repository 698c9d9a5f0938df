package dev.warmstart.operator.reconciler.schedule;

import dev.warmstart.api.agent.StoreUsage;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointTemplate;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.status.ConditionReason;
import dev.warmstart.operator.status.ScheduleStatusFactory.Storage;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** Whether the node's image store has room for a schedule's next run (asks the node's agent). */
final class NodeStoreCheck {
  private final NodeAgentClient agents;

  NodeStoreCheck(NodeAgentClient agents) {
    this.agents = agents;
  }

  /**
   * Room for one more image on the node: at least the size of the schedule's last good checkpoint
   * (the estimate of the next one). Null when the images do not go to the node's store.
   */
  Storage check(CheckpointTemplate template, String node, List<GpuCheckpoint> kept) {
    if (template.storage() != null && !template.storage().isNodeLocal()) {
      return null;
    }
    Optional<Long> estimate =
        kept.stream()
            .filter(c -> ScheduledCheckpoints.phase(c) == CheckpointPhase.Succeeded)
            .filter(c -> c.getStatus().artifact() != null)
            .max(Comparator.comparing(ScheduledCheckpoints::created))
            .map(c -> c.getStatus().artifact().sizeBytes());
    if (estimate.isEmpty()) {
      return new Storage(
          ConditionStatus.Unknown,
          ConditionReason.NoSizeEstimate,
          "no checkpoint of this schedule has succeeded yet, so its size is not known");
    }
    try {
      Optional<StoreUsage> usage = agents.storeUsage(node);
      if (usage.isEmpty()) {
        return new Storage(
            ConditionStatus.Unknown,
            ConditionReason.StoreUsageUnknown,
            "the agent on node " + node + " does not report its image store");
      }
      long free = usage.get().usableBytes();
      String sizes =
          "node "
              + node
              + "'s image store has "
              + mib(free)
              + " MiB free; the last checkpoint"
              + " took "
              + mib(estimate.get())
              + " MiB";
      return free < estimate.get()
          ? new Storage(ConditionStatus.False, ConditionReason.NodeStoreFull, sizes)
          : new Storage(ConditionStatus.True, ConditionReason.StoreHasRoom, sizes);
    } catch (AgentUnavailableException e) {
      return new Storage(ConditionStatus.Unknown, e.reason(), e.getMessage());
    }
  }

  private static long mib(long bytes) {
    return bytes >> 20;
  }
}
