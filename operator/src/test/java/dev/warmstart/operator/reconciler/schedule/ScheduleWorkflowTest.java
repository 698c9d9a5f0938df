package dev.warmstart.operator.reconciler.schedule;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;
import static dev.warmstart.api.v1alpha1.ConditionType.StorageAvailable;
import static dev.warmstart.operator.support.ConditionAssert.assertThatConditions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.StoreUsage;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointTemplate;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleSpec;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleStatus;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.ScheduleMetrics;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.ScheduleStatusFactory;
import dev.warmstart.operator.support.Cluster;
import dev.warmstart.operator.support.FakeAgents;
import dev.warmstart.operator.support.LiveCheckpointWorld;
import dev.warmstart.operator.support.MutableClock;
import dev.warmstart.operator.support.Reconcile;
import dev.warmstart.operator.support.TestConfig;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * GpuCheckpointSchedule against the mock API server (CRUD) with a clock moved by hand: runs create
 * checkpoints that the GpuCheckpoint workflow completes (agents faked), retention deletes the old
 * ones, Forbid skips, a full node store is reported before a run.
 */
@EnableKubernetesMockClient(crud = true)
class ScheduleWorkflowTest {
  /** The schedules' creation time (the mock server stamps wall-clock time; the test fixes it). */
  private static final String CREATED = "2026-11-24T10:00:00Z";

  KubernetesClient client;
  private FakeAgents agents;
  private MutableClock clock;
  private SimpleMeterRegistry registry;
  private Cluster cluster;
  private ScheduleWorkflow workflow;
  private Reconcile<GpuCheckpoint, GpuCheckpointStatus> checkpoints;
  private Decision<GpuCheckpointScheduleStatus> last;

  @BeforeEach
  void setUp() {
    agents = new FakeAgents();
    agents.nodesWithAgent.add("gpu-1");
    clock = new MutableClock(); // 2026-11-24T10:00:00Z
    registry = new SimpleMeterRegistry();
    cluster = new Cluster(client);
    var events = new EventRecorder(client, clock);
    workflow =
        new ScheduleWorkflow(
            client,
            agents,
            new ScheduleStatusFactory(clock),
            events,
            new ScheduleMetrics(registry),
            clock);
    checkpoints =
        new Reconcile<>(
            client,
            GpuCheckpoint.class,
            LiveCheckpointWorld.steps(
                client,
                new CheckpointWorkflow(
                    client,
                    agents,
                    new CheckpointStatusFactory(clock),
                    events,
                    new OperatorMetrics(registry),
                    new TestConfig(),
                    clock)),
            clock);
  }

  private GpuCheckpointSchedule schedule(String name, String cron, int keep, String pod) {
    GpuCheckpointSchedule s = new GpuCheckpointSchedule();
    s.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    CheckpointTemplate t =
        pod != null
            ? new CheckpointTemplate(pod, null, null, null, null, null, null)
            : new CheckpointTemplate(null, Map.of("app", "llm"), null, null, null, 300, null);
    s.setSpec(new GpuCheckpointScheduleSpec(cron, null, null, null, null, keep, 1, t));
    return client.resource(s).create();
  }

  /** One reconcile the way the reconciler runs it: children from the label, status written. */
  private GpuCheckpointSchedule reconcile(String name) {
    GpuCheckpointSchedule s = get(name);
    s.getMetadata().setCreationTimestamp(CREATED);
    last = workflow.step(s, children(name));
    if (!Objects.equals(last.status(), s.getStatus())) {
      s.setStatus(last.status());
      new StatusWriter(client).write(s);
    }
    return get(name);
  }

  private GpuCheckpointSchedule get(String name) {
    return client
        .resources(GpuCheckpointSchedule.class)
        .inNamespace(Cluster.NS)
        .withName(name)
        .get();
  }

  private List<GpuCheckpoint> children(String schedule) {
    return client
        .resources(GpuCheckpoint.class)
        .inNamespace(Cluster.NS)
        .withLabel(GpuCheckpointSchedule.SCHEDULE_LABEL, schedule)
        .list()
        .getItems()
        .stream()
        .sorted(Comparator.comparing(c -> c.getMetadata().getName()))
        .toList();
  }

  private List<String> names(String schedule) {
    return children(schedule).stream().map(c -> c.getMetadata().getName()).toList();
  }

  private void at(String instant) {
    clock.advance(Duration.between(clock.instant(), Instant.parse(instant)));
  }

  private List<String> events(String name) {
    return client.v1().events().inNamespace(Cluster.NS).list().getItems().stream()
        .filter(e -> e.getInvolvedObject().getName().equals(name))
        .map(Event::getReason)
        .toList();
  }

  private double runs(String result) {
    var c = registry.find("warmstart.schedule.runs").tag("result", result).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void eachRunCreatesACheckpointOfTheOldestMatchingPodAndRetentionKeepsTheLastN() {
    cluster.runningPod("llm-a", "gpu-1");
    cluster.runningPod("llm-b", "gpu-1");
    schedule("hourly", "0 * * * *", 2, null);

    GpuCheckpointSchedule s = reconcile("hourly");
    assertThat(s.getStatus().lastScheduleTime()).isNull();
    assertThat(s.getStatus().nextScheduleTime()).isEqualTo("2026-11-24T11:00:00Z");
    assertThat(last.requeueAfter()).contains(Duration.ofMinutes(60).plusMillis(100));
    assertThatConditions(s.getStatus().conditions())
        .has(Accepted, True, "Validated")
        .has(Ready, Unknown, "NoCheckpointYet");
    assertThat(children("hourly")).isEmpty();

    for (int hour = 11; hour <= 14; hour++) {
      at("2026-11-24T" + hour + ":00:00Z");
      s = reconcile("hourly");
      String name = ScheduleWorkflow.checkpointName(s, clock.instant());
      assertThat(s.getStatus().active()).containsExactly(name);
      assertThat(s.getStatus().lastScheduleTime()).isEqualTo(clock.instant().toString());
      GpuCheckpoint ck = checkpoints.get(name);
      assertThat(ck.getSpec().podName()).isEqualTo("llm-a");
      assertThat(ck.getSpec().timeoutSeconds()).isEqualTo(300);
      assertThat(ck.getMetadata().getAnnotations())
          .containsEntry(GpuCheckpointSchedule.SCHEDULED_AT_ANNOTATION, clock.instant().toString());
      assertThat(checkpoints.untilSettled(name, 10).getStatus().phase())
          .isEqualTo(CheckpointPhase.Succeeded);
      s = reconcile("hourly");
      assertThat(s.getStatus().active()).isNull();
      assertThat(s.getStatus().lastSuccessfulCheckpoint()).isEqualTo(name);
      assertThatConditions(s.getStatus().conditions()).has(Ready, True, "Succeeded");
    }
    // Minutes since the epoch name the runs: 14:00 UTC is minute 29925480.
    assertThat(names("hourly")).containsExactly("hourly-29925420", "hourly-29925480");
    assertThat(s.getStatus().lastSuccessfulCheckpoint()).isEqualTo("hourly-29925480");
    assertThat(events("hourly")).filteredOn("CheckpointPruned"::equals).hasSize(2);
    assertThat(runs("created")).isEqualTo(4.0);
    assertThat(registry.find("warmstart.schedule.checkpoints.deleted").counter().count())
        .isEqualTo(2.0);
  }

  @Test
  void retentionNeverDeletesACheckpointThatARestoreUses() {
    cluster.runningPod("llm-0", "gpu-1");
    schedule("keep1", "0 * * * *", 1, "llm-0");
    at("2026-11-24T11:00:00Z");
    reconcile("keep1");
    String first = names("keep1").get(0);
    checkpoints.untilSettled(first, 10);
    cluster.restore("uses-first", first, null);

    at("2026-11-24T12:00:00Z");
    reconcile("keep1");
    String second = ScheduleWorkflow.checkpointName(get("keep1"), clock.instant());
    checkpoints.untilSettled(second, 10);
    reconcile("keep1");

    assertThat(names("keep1")).containsExactly(first, second);
    client.resources(GpuRestore.class).inNamespace(Cluster.NS).withName("uses-first").delete();
    reconcile("keep1");
    assertThat(names("keep1")).containsExactly(second);
  }

  @Test
  void forbidSkipsARunWhileThePreviousCheckpointStillRuns() {
    cluster.runningPod("llm-0", "gpu-1");
    schedule("busy", "*/5 * * * *", 3, "llm-0");
    agents.pollsToFinish = 1000; // the capture goes on
    at("2026-11-24T10:05:00Z");
    reconcile("busy");
    String running = names("busy").get(0);
    checkpoints.once(running);

    at("2026-11-24T10:10:00Z");
    GpuCheckpointSchedule s = reconcile("busy");

    assertThat(names("busy")).containsExactly(running);
    assertThat(s.getStatus().lastSkippedTime()).isEqualTo("2026-11-24T10:10:00Z");
    assertThat(s.getStatus().lastScheduleTime()).isEqualTo("2026-11-24T10:05:00Z");
    assertThat(s.getStatus().message()).contains("the previous checkpoint " + running);
    assertThat(events("busy")).contains("ScheduledRunSkipped");
    assertThat(runs("skipped_PreviousStillRunning")).isEqualTo(1.0);
    // The skipped time is handled: the next reconcile in the same minute does nothing.
    reconcile("busy");
    assertThat(runs("skipped_PreviousStillRunning")).isEqualTo(1.0);
  }

  @Test
  void aFullNodeStoreIsReportedAndTheRunSkippedBeforeTheCaptureWouldFail() {
    cluster.runningPod("llm-0", "gpu-1");
    schedule("big", "0 * * * *", 3, "llm-0");
    at("2026-11-24T11:00:00Z");
    reconcile("big");
    checkpoints.untilSettled(names("big").get(0), 10); // the fake's images are 1 MiB
    GpuCheckpointSchedule s = reconcile("big");
    assertThatConditions(s.getStatus().conditions())
        .has(StorageAvailable, Unknown, "NoSizeEstimate");

    agents.stores.put("gpu-1", new StoreUsage("gpu-1", 100L << 30, (1 << 20) - 1, 90L << 30));
    at("2026-11-24T12:00:00Z");
    s = reconcile("big");

    assertThat(names("big")).hasSize(1);
    assertThatConditions(s.getStatus().conditions()).has(StorageAvailable, False, "NodeStoreFull");
    assertThat(s.getStatus().message())
        .contains("image store has 0 MiB free")
        .contains("took 1 MiB");
    assertThat(runs("skipped_NodeStoreFull")).isEqualTo(1.0);

    agents.stores.put("gpu-1", new StoreUsage("gpu-1", 100L << 30, 10L << 30, 90L << 30));
    at("2026-11-24T13:00:00Z");
    s = reconcile("big");
    assertThat(names("big")).hasSize(2);
    assertThatConditions(s.getStatus().conditions()).has(StorageAvailable, True, "StoreHasRoom");
  }

  @Test
  void aCheckpointTheAgentRefusesForLackOfSpaceSaysSo() {
    cluster.runningPod("llm-0", "gpu-1");
    schedule("nospace", "0 * * * *", 3, "llm-0");
    agents.failWith = ErrorReason.NoSpace;
    at("2026-11-24T11:00:00Z");
    reconcile("nospace");
    GpuCheckpoint ck = checkpoints.untilSettled(names("nospace").get(0), 10);
    assertThatConditions(ck.getStatus().conditions()).has(Ready, False, "NodeStoreFull");

    GpuCheckpointSchedule s = reconcile("nospace");
    assertThatConditions(s.getStatus().conditions()).has(Ready, False, "CheckpointFailed");
    assertThat(
            registry
                .find("warmstart.operations")
                .tags("kind", "checkpoint", "result", "NodeStoreFull")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void aRunWithoutARunningPodIsSkippedWithTheReason() {
    schedule("nopod", "0 * * * *", 3, null);
    at("2026-11-24T11:00:00Z");
    GpuCheckpointSchedule s = reconcile("nopod");
    assertThat(children("nopod")).isEmpty();
    assertThat(s.getStatus().message()).contains("no running pod with labels {app=llm}");
    assertThat(runs("skipped_NoRunningPod")).isEqualTo(1.0);
  }

  @Test
  void anInvalidScheduleOrTimeZoneIsNotAccepted() {
    schedule("bad", "0 25 * * *", 3, "llm-0");
    GpuCheckpointSchedule s = reconcile("bad");
    assertThatConditions(s.getStatus().conditions()).has(Accepted, False, "InvalidSchedule");
    assertThat(last.requeueAfter()).isEmpty();
    reconcile("bad");
    assertThat(events("bad")).containsExactly("ScheduleInvalid");

    GpuCheckpointSchedule tz = new GpuCheckpointSchedule();
    tz.setMetadata(new ObjectMetaBuilder().withName("tz").withNamespace(Cluster.NS).build());
    tz.setSpec(
        new GpuCheckpointScheduleSpec(
            "@daily",
            "Europe/Atlantis",
            null,
            null,
            null,
            null,
            null,
            new CheckpointTemplate("llm-0", null, null, null, null, null, null)));
    client.resource(tz).create();
    assertThatConditions(reconcile("tz").getStatus().conditions())
        .has(Accepted, False, "UnknownTimeZone");
  }

  @Test
  void aSuspendedScheduleCreatesNothing() {
    cluster.runningPod("llm-0", "gpu-1");
    GpuCheckpointSchedule s = new GpuCheckpointSchedule();
    s.setMetadata(new ObjectMetaBuilder().withName("off").withNamespace(Cluster.NS).build());
    s.setSpec(
        new GpuCheckpointScheduleSpec(
            "@hourly",
            null,
            true,
            null,
            null,
            null,
            null,
            new CheckpointTemplate("llm-0", null, null, null, null, null, null)));
    client.resource(s).create();
    at("2026-11-24T11:00:00Z");
    assertThat(reconcile("off").getStatus().nextScheduleTime()).isEqualTo("2026-11-24T12:00:00Z");
    assertThat(children("off")).isEmpty();
  }
}
