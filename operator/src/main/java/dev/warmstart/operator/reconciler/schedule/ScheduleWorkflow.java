package dev.warmstart.operator.reconciler.schedule;

import dev.warmstart.api.agent.StoreUsage;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointTemplate;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.operator.ScheduleMetrics;
import dev.warmstart.operator.agent.AgentUnavailableException;
import dev.warmstart.operator.agent.NodeAgentClient;
import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.status.ConditionReason;
import dev.warmstart.operator.status.ScheduleStatusFactory;
import dev.warmstart.operator.status.ScheduleStatusFactory.Child;
import dev.warmstart.operator.status.ScheduleStatusFactory.Storage;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * One reconcile of a GpuCheckpointSchedule: prune old checkpoints, decide whether a run is due
 * ({@link ScheduleDecider}), check the node's image store has room, create the run's GpuCheckpoint
 * (which the GpuCheckpoint reconciler then takes), and requeue for the next run. Deleting a pruned
 * GpuCheckpoint frees its image on the node through that reconciler's cleanup.
 */
@ApplicationScoped
public class ScheduleWorkflow {
  /** Longest name prefix of a run's checkpoint: room for "-" and the run's epoch minute. */
  private static final int MAX_PREFIX = 240;

  private final KubernetesClient client;
  private final NodeAgentClient agents;
  private final ScheduleStatusFactory status;
  private final EventRecorder events;
  private final ScheduleMetrics metrics;
  private final Clock clock;

  public ScheduleWorkflow(
      KubernetesClient client,
      NodeAgentClient agents,
      ScheduleStatusFactory status,
      EventRecorder events,
      ScheduleMetrics metrics,
      Clock clock) {
    this.client = client;
    this.agents = agents;
    this.status = status;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
  }

  /**
   * Name of the checkpoint of the run scheduled at {@code at}: one per run, so creation is
   * idempotent.
   */
  public static String checkpointName(GpuCheckpointSchedule s, Instant at) {
    String prefix = s.getMetadata().getName();
    prefix = prefix.length() > MAX_PREFIX ? prefix.substring(0, MAX_PREFIX) : prefix;
    return prefix + "-" + at.getEpochSecond() / 60;
  }

  /**
   * @param children the schedule's checkpoints (labelled with its name), from the informer cache
   */
  public Decision<GpuCheckpointScheduleStatus> step(
      GpuCheckpointSchedule cr, List<GpuCheckpoint> children) {
    CronSchedule cron;
    try {
      cron = CronSchedule.parse(cr.getSpec().schedule(), cr.getSpec().timeZone());
    } catch (CronSchedule.InvalidException e) {
      if (!isAlreadyInvalid(cr)) {
        events.warning(cr, EventReason.ScheduleInvalid, e.getMessage());
      }
      ConditionReason reason =
          e.timeZone() ? ConditionReason.UnknownTimeZone : ConditionReason.InvalidSchedule;
      return Decision.done(status.invalid(cr, reason, e.getMessage()));
    }
    Instant now = clock.instant();
    List<GpuCheckpoint> kept = prune(cr, children);
    List<String> active =
        kept.stream()
            .filter(c -> !terminal(c))
            .map(c -> c.getMetadata().getName())
            .sorted()
            .toList();
    Optional<Child> lastSucceeded = newest(kept, CheckpointPhase.Succeeded);
    Optional<Child> newestFinished =
        kept.stream().filter(ScheduleWorkflow::terminal).map(ScheduleWorkflow::child).max(NEWEST);

    ScheduleDecider.Verdict v =
        ScheduleDecider.decide(
            cron,
            handledUpTo(cr),
            now,
            cr.getSpec().suspend(),
            !active.isEmpty(),
            cr.getSpec().startingDeadlineSeconds() == null
                ? null
                : Duration.ofSeconds(cr.getSpec().startingDeadlineSeconds()));
    var observed =
        new ScheduleStatusFactory.Observed(
            active, lastSucceeded, newestFinished, v.next(), null, null, null, null);
    if (v instanceof ScheduleDecider.Skip skip) {
      String why =
          switch (skip.reason()) {
            case PreviousStillRunning -> "the previous checkpoint " + active.get(0) + " still runs";
            case MissedDeadline ->
                "missed by more than " + cr.getSpec().startingDeadlineSeconds() + " s";
          };
      observed = skipped(cr, observed, skip.scheduledAt(), skip.reason().name(), why, null);
    } else if (v instanceof ScheduleDecider.Run run) {
      observed = run(cr, observed, run.scheduledAt(), kept);
    }
    GpuCheckpointScheduleStatus next = status.observed(cr, observed);
    return v.next()
        .map(t -> Decision.after(next, Duration.between(now, t).plusMillis(100)))
        .orElseGet(() -> Decision.done(next));
  }

  private ScheduleStatusFactory.Observed run(
      GpuCheckpointSchedule cr,
      ScheduleStatusFactory.Observed o,
      Instant at,
      List<GpuCheckpoint> kept) {
    CheckpointTemplate template = cr.getSpec().checkpointTemplate();
    Optional<Pod> pod = pickPod(cr.getMetadata().getNamespace(), template);
    if (pod.isEmpty()) {
      String why =
          template.podName() != null
              ? "pod " + template.podName() + " is not running"
              : "no running pod with labels " + template.podSelector();
      return skipped(cr, o, at, "NoRunningPod", why, null);
    }
    Storage storage = storage(template, pod.get().getSpec().getNodeName(), kept);
    if (storage != null && storage.status() == ConditionStatus.False) {
      return skipped(cr, o, at, ConditionReason.NodeStoreFull.name(), storage.message(), storage);
    }
    String name = checkpointName(cr, at);
    GpuCheckpoint ck = new GpuCheckpoint();
    ck.setMetadata(
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(cr.getMetadata().getNamespace())
            .withLabels(Map.of(GpuCheckpointSchedule.SCHEDULE_LABEL, cr.getMetadata().getName()))
            .withAnnotations(Map.of(GpuCheckpointSchedule.SCHEDULED_AT_ANNOTATION, at.toString()))
            .build());
    ck.setSpec(template.specFor(pod.get().getMetadata().getName()));
    try {
      client.resource(ck).create();
      metrics.run("created");
      events.normal(
          cr,
          EventReason.CheckpointScheduled,
          "created " + name + " of pod " + pod.get().getMetadata().getName() + " for " + at);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      // Created by an earlier reconcile whose status write was lost: the same run, nothing to do.
    }
    List<String> active = Stream.concat(o.active().stream(), Stream.of(name)).sorted().toList();
    return new ScheduleStatusFactory.Observed(
        active,
        o.lastSucceeded(),
        o.newestFinished(),
        o.next(),
        at,
        null,
        storage,
        "created " + name + " for the run at " + at);
  }

  private ScheduleStatusFactory.Observed skipped(
      GpuCheckpointSchedule cr,
      ScheduleStatusFactory.Observed o,
      Instant at,
      String reason,
      String why,
      Storage storage) {
    metrics.run("skipped_" + reason);
    String msg = "skipped the run at " + at + ": " + why;
    events.warning(cr, EventReason.ScheduledRunSkipped, msg);
    return new ScheduleStatusFactory.Observed(
        o.active(), o.lastSucceeded(), o.newestFinished(), o.next(), null, at, storage, msg);
  }

  /**
   * Room for one more image on the node: at least the size of the schedule's last good checkpoint
   * (the estimate of the next one). Null when the images do not go to the node's store.
   */
  private Storage storage(CheckpointTemplate template, String node, List<GpuCheckpoint> kept) {
    if (template.storage() != null && !template.storage().isNodeLocal()) {
      return null;
    }
    Optional<Long> estimate =
        kept.stream()
            .filter(c -> phase(c) == CheckpointPhase.Succeeded)
            .filter(c -> c.getStatus().artifact() != null)
            .max(Comparator.comparing(ScheduleWorkflow::created))
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

  /** Deletes what retention lets go; returns the checkpoints that remain. */
  private List<GpuCheckpoint> prune(GpuCheckpointSchedule cr, List<GpuCheckpoint> children) {
    List<Retention.Entry> entries =
        children.stream()
            .filter(c -> c.getMetadata().getDeletionTimestamp() == null)
            .map(c -> new Retention.Entry(c.getMetadata().getName(), outcome(c), created(c)))
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

  /** The pod of this run: the named one, or the oldest running one with the labels. */
  private Optional<Pod> pickPod(String ns, CheckpointTemplate t) {
    Stream<Pod> pods =
        t.podName() != null
            ? Stream.ofNullable(client.pods().inNamespace(ns).withName(t.podName()).get())
            : client.pods().inNamespace(ns).withLabels(t.podSelector()).list().getItems().stream();
    return pods.filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
        .filter(p -> p.getSpec().getNodeName() != null)
        .min(
            Comparator.comparing((Pod p) -> String.valueOf(p.getMetadata().getCreationTimestamp()))
                .thenComparing(p -> p.getMetadata().getName()));
  }

  private static Instant handledUpTo(GpuCheckpointSchedule cr) {
    Instant t = Instant.parse(cr.getMetadata().getCreationTimestamp());
    GpuCheckpointScheduleStatus s = cr.getStatus();
    if (s != null) {
      for (String x : new String[] {s.lastScheduleTime(), s.lastSkippedTime()}) {
        if (x != null && Instant.parse(x).isAfter(t)) {
          t = Instant.parse(x);
        }
      }
    }
    return t;
  }

  private static boolean isAlreadyInvalid(GpuCheckpointSchedule cr) {
    return cr.getStatus() != null
        && cr.getStatus().conditions() != null
        && cr.getStatus().conditions().stream()
            .anyMatch(
                c ->
                    c.type() == ConditionType.Accepted
                        && c.status() == ConditionStatus.False
                        && cr.getMetadata().getGeneration().equals(c.observedGeneration()));
  }

  private static final Comparator<Child> NEWEST =
      Comparator.comparing(Child::created).thenComparing(Child::name);

  private static Optional<Child> newest(List<GpuCheckpoint> all, CheckpointPhase phase) {
    return all.stream().filter(c -> phase(c) == phase).map(ScheduleWorkflow::child).max(NEWEST);
  }

  private static Child child(GpuCheckpoint c) {
    return new Child(
        c.getMetadata().getName(),
        created(c),
        phase(c),
        c.getStatus() == null ? null : c.getStatus().message());
  }

  /** The run's scheduled time (annotation), else the creation time. */
  private static Instant created(GpuCheckpoint c) {
    Map<String, String> a = c.getMetadata().getAnnotations();
    String at = a == null ? null : a.get(GpuCheckpointSchedule.SCHEDULED_AT_ANNOTATION);
    return Instant.parse(at != null ? at : c.getMetadata().getCreationTimestamp());
  }

  private static CheckpointPhase phase(GpuCheckpoint c) {
    return c.getStatus() == null ? null : c.getStatus().phase();
  }

  private static boolean terminal(GpuCheckpoint c) {
    return phase(c) != null && phase(c).isTerminal();
  }

  private static Retention.Outcome outcome(GpuCheckpoint c) {
    if (phase(c) == CheckpointPhase.Succeeded) {
      return Retention.Outcome.Succeeded;
    }
    return phase(c) == CheckpointPhase.Failed
        ? Retention.Outcome.Failed
        : Retention.Outcome.Running;
  }

  private static long mib(long bytes) {
    return bytes >> 20;
  }
}
