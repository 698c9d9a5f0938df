package dev.warmstart.operator.reconciler.schedule;

import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointTemplate;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleStatus;
import dev.warmstart.operator.ScheduleMetrics;
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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
  private final NodeStoreCheck storeCheck;
  private final CheckpointPruner pruner;
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
    this.storeCheck = new NodeStoreCheck(agents);
    this.pruner = new CheckpointPruner(client, events, metrics);
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
    List<GpuCheckpoint> kept = pruner.prune(cr, children);
    List<String> active =
        kept.stream()
            .filter(c -> !ScheduledCheckpoints.terminal(c))
            .map(c -> c.getMetadata().getName())
            .sorted()
            .toList();
    Optional<Child> lastSucceeded = newest(kept, CheckpointPhase.Succeeded);
    Optional<Child> newestFinished =
        kept.stream()
            .filter(ScheduledCheckpoints::terminal)
            .map(ScheduleWorkflow::child)
            .max(NEWEST);

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
    Storage storage = storeCheck.check(template, pod.get().getSpec().getNodeName(), kept);
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
    return all.stream()
        .filter(c -> ScheduledCheckpoints.phase(c) == phase)
        .map(ScheduleWorkflow::child)
        .max(NEWEST);
  }

  private static Child child(GpuCheckpoint c) {
    return new Child(
        c.getMetadata().getName(),
        ScheduledCheckpoints.created(c),
        ScheduledCheckpoints.phase(c),
        c.getStatus() == null ? null : c.getStatus().message());
  }
}
