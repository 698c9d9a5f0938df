package dev.warmstart.operator.reconciler.schedule;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.operator.ScheduleMetrics;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Deletes a schedule's checkpoints beyond its history limits ({@link Retention}), never one that a
 * GpuRestore or GpuStandbyPool names. Those are listed only when something is to be deleted.
 */
final class CheckpointPruner {
  private final KubernetesClient client;
  private final EventRecorder events;
  private final ScheduleMetrics metrics;

  CheckpointPruner(KubernetesClient client, EventRecorder events, ScheduleMetrics metrics) {
    this.client = client;
    this.events = events;
    this.metrics = metrics;
  }

  /** Deletes what retention lets go; returns the checkpoints that remain. */
  List<GpuCheckpoint> prune(GpuCheckpointSchedule cr, List<GpuCheckpoint> children) {
    List<Retention.Entry> entries =
        children.stream()
            .filter(c -> c.getMetadata().getDeletionTimestamp() == null)
            .map(
                c ->
                    new Retention.Entry(
                        c.getMetadata().getName(),
                        ScheduledCheckpoints.outcome(c),
                        ScheduledCheckpoints.created(c)))
            .toList();
    int keepOk = cr.getSpec().successfulCheckpointsHistoryLimit();
    int keepFailed = cr.getSpec().failedCheckpointsHistoryLimit();
    List<String> candidates = Retention.toDelete(entries, Set.of(), keepOk, keepFailed);
    List<String> delete =
        candidates.isEmpty()
            ? candidates
            : Retention.toDelete(
                entries, inUse(cr.getMetadata().getNamespace()), keepOk, keepFailed);
    List<GpuCheckpoint> kept = new ArrayList<>();
    for (GpuCheckpoint c : children) {
      if (c.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      if (delete.contains(c.getMetadata().getName())) {
        client.resource(c).delete();
        events.normal(
            cr,
            EventReason.CheckpointPruned,
            "deleted " + c.getMetadata().getName() + " (beyond the history limits)");
      } else {
        kept.add(c);
      }
    }
    if (!delete.isEmpty()) {
      metrics.deleted(delete.size());
    }
    return kept;
  }

  /** Checkpoints a GpuRestore or GpuStandbyPool of the namespace names. */
  private Set<String> inUse(String ns) {
    Set<String> names = new HashSet<>();
    for (GpuRestore r : client.resources(GpuRestore.class).inNamespace(ns).list().getItems()) {
      names.add(r.getSpec().checkpointName());
    }
    for (GpuStandbyPool p :
        client.resources(GpuStandbyPool.class).inNamespace(ns).list().getItems()) {
      names.add(p.getSpec().checkpointName());
    }
    return names;
  }
}
