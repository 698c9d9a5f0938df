package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.agent.operation.WorkerPools;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointTemplate;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleSpec;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.ScheduleMetrics;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.checkpoint.GpuCheckpointCleanup;
import dev.warmstart.operator.reconciler.schedule.ScheduleWorkflow;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.ScheduleStatusFactory;
import dev.warmstart.operator.support.LiveCheckpointWorld;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GpuCheckpointSchedule end to end without a kubelet: the schedule and checkpoint workflows, a
 * real node agent (CPU mode, real CRIU) capturing a real runc container, and the mock API server.
 * Two hourly runs with a history of one: the first checkpoint's image is written, then deleted from
 * the node's store by the agent once retention deletes its GpuCheckpoint. The test plays JOSDK for
 * the finalizer (a deleted GpuCheckpoint's cleanup) and moves the schedule's clock by hand.
 */
@EnableKubernetesMockClient(crud = true)
class ScheduleWithAgentIT {
  private static final String NODE = "node-1";
  private static final String NS = "ml";
  KubernetesClient client;
  @TempDir Path work;
  @RegisterExtension final WorkerPools pools = new WorkerPools();
  private Path store;
  private final SettableClock clock = new SettableClock();
  private ScheduleWorkflow schedules;
  private CheckpointWorkflow checkpoints;
  private GpuCheckpointCleanup cleanup;

  /** The schedule's clock: set to each run's time. */
  private static final class SettableClock extends Clock {
    volatile Instant now = Instant.parse("2026-11-24T10:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue(RuncContainer.available(), "runc and busybox-static are needed");
    store = work.resolve("store");
    AgentComponents components = TestEnv.components(store);
    OperationService agentOps =
        OperationService.builder(
                components, new OperationJournal(work.resolve("journal")), pools.fixed(2))
            .nodeName(NODE)
            .start();
    var agents = new InProcessAgents(NODE, agentOps);
    Clock real = Clock.systemUTC();
    var events = new EventRecorder(client, real);
    var config = new OperatorWithAgentIT.Config();
    checkpoints =
        new CheckpointWorkflow(
            client,
            agents,
            new CheckpointStatusFactory(real),
            events,
            new OperatorMetrics(new SimpleMeterRegistry()),
            config,
            real);
    schedules =
        new ScheduleWorkflow(
            client,
            agents,
            new ScheduleStatusFactory(clock),
            events,
            new ScheduleMetrics(new SimpleMeterRegistry()),
            clock);
    cleanup =
        new GpuCheckpointCleanup(
            agents, events, new OperatorMetrics(new SimpleMeterRegistry()), config, real);
  }

  /** One schedule reconcile (created "at 10:00", as the mock server stamps wall-clock time). */
  private GpuCheckpointSchedule reconcileSchedule() {
    GpuCheckpointSchedule s = schedule();
    s.getMetadata().setCreationTimestamp("2026-11-24T10:00:00Z");
    List<GpuCheckpoint> children =
        client
            .resources(GpuCheckpoint.class)
            .inNamespace(NS)
            .withLabel(GpuCheckpointSchedule.SCHEDULE_LABEL, "hourly")
            .list()
            .getItems();
    Decision<?> d = schedules.step(s, children);
    if (!Objects.equals(d.status(), s.getStatus())) {
      s.setStatus((dev.warmstart.api.v1alpha1.GpuCheckpointScheduleStatus) d.status());
      new StatusWriter(client).write(s);
    }
    return schedule();
  }

  private GpuCheckpointSchedule schedule() {
    return client.resources(GpuCheckpointSchedule.class).inNamespace(NS).withName("hourly").get();
  }

  private GpuCheckpoint capture(String name) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      GpuCheckpoint ck = client.resources(GpuCheckpoint.class).inNamespace(NS).withName(name).get();
      if (ck.getMetadata().getFinalizers().isEmpty()) {
        // JOSDK's part: a Cleaner reconciler's finalizer goes on before the first reconcile.
        ck.getMetadata()
            .setFinalizers(new ArrayList<>(List.of("gpucheckpoints.warmstart.dev/finalizer")));
        ck = client.resource(ck).update();
      }
      Decision<?> d = checkpoints.step(ck, new LiveCheckpointWorld(client));
      ck.setStatus((dev.warmstart.api.v1alpha1.GpuCheckpointStatus) d.status());
      new StatusWriter(client).write(ck);
      if (d.requeueAfter().isEmpty()) {
        return client.resources(GpuCheckpoint.class).inNamespace(NS).withName(name).get();
      }
      Thread.sleep(100);
    }
    throw new AssertionError(name + " did not settle");
  }

  /** JOSDK's part for deleted checkpoints: run the cleanup, then drop the finalizer. */
  private void finalizeDeleted() throws InterruptedException {
    for (GpuCheckpoint ck :
        client.resources(GpuCheckpoint.class).inNamespace(NS).list().getItems()) {
      if (ck.getMetadata().getDeletionTimestamp() == null) {
        continue;
      }
      while (cleanup.cleanup(ck).isPresent()) {
        Thread.sleep(100);
      }
      ck.getMetadata().setFinalizers(new ArrayList<>());
      client.resource(ck).update();
    }
  }

  @Test
  void hourlyRunsCaptureTheContainerAndRetentionDeletesTheOlderImageOnTheNode() throws Exception {
    String suffix = "sched" + ProcessHandle.current().pid();
    try (RuncContainer src = RuncContainer.start(work, "src-" + suffix, List.of("/app.sh"))) {
      src.awaitLine("tick 3 ");
      client
          .resource(
              new PodBuilder()
                  .withMetadata(
                      new ObjectMetaBuilder().withName("counter-0").withNamespace(NS).build())
                  .withNewSpec()
                  .withNodeName(NODE)
                  .addToContainers(
                      new ContainerBuilder().withName("app").withImage("busybox").build())
                  .endSpec()
                  .withStatus(
                      new PodStatusBuilder()
                          .withPhase("Running")
                          .withContainerStatuses(
                              new ContainerStatusBuilder()
                                  .withName("app")
                                  .withContainerID("containerd://" + src.id)
                                  .withNewState()
                                  .withNewRunning()
                                  .endRunning()
                                  .endState()
                                  .build())
                          .build())
                  .build())
          .create();
      GpuCheckpointSchedule s = new GpuCheckpointSchedule();
      s.setMetadata(new ObjectMetaBuilder().withName("hourly").withNamespace(NS).build());
      s.setSpec(
          new GpuCheckpointScheduleSpec(
              "0 * * * *",
              null,
              null,
              null,
              null,
              1,
              0,
              new CheckpointTemplate("counter-0", null, null, true, null, 120, null)));
      client.resource(s).create();

      List<String> names = new ArrayList<>();
      for (String at : List.of("2026-11-24T11:00:00Z", "2026-11-24T12:00:00Z")) {
        clock.now = Instant.parse(at);
        reconcileSchedule();
        String name = ScheduleWorkflow.checkpointName(schedule(), clock.now);
        names.add(name);
        GpuCheckpoint ck = capture(name);
        assertThat(ck.getStatus().phase())
            .as(ck.getStatus().message())
            .isEqualTo(CheckpointPhase.Succeeded);
        assertThat(store.resolve(NS + "." + name).resolve("manifest.json")).exists();
      }
      GpuCheckpointSchedule after = reconcileSchedule();
      finalizeDeleted();

      assertThat(after.getStatus().lastSuccessfulCheckpoint()).isEqualTo(names.get(1));
      assertThat(
              client
                  .resources(GpuCheckpoint.class)
                  .inNamespace(NS)
                  .withLabel(GpuCheckpointSchedule.SCHEDULE_LABEL, "hourly")
                  .list()
                  .getItems())
          .extracting(c -> c.getMetadata().getName())
          .containsExactly(names.get(1));
      assertThat(store.resolve(NS + "." + names.get(0))).doesNotExist();
      assertThat(store.resolve(NS + "." + names.get(1)).resolve("manifest.json")).exists();
    }
  }
}
