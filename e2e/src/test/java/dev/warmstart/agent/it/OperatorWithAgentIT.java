package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.agent.operation.WorkerPools;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.operator.OperatorConfig;
import dev.warmstart.operator.OperatorMetrics;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.restore.RestoreWorkflow;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.RestoreStatusFactory;
import dev.warmstart.operator.support.LiveCheckpointWorld;
import dev.warmstart.operator.support.LiveRestoreWorld;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end without a kubelet: the operator's checkpoint and restore workflows, a real node agent
 * (CPU mode, real CRIU) and the mock API server. The "pod" is a real runc container that the test
 * registers as running on the agent's node; for the restore, the test plays kubelet and starts the
 * placeholder container the created pod asks for.
 */
@EnableKubernetesMockClient(crud = true)
class OperatorWithAgentIT {
  private static final String NODE = "node-1";
  private static final String NS = "ml";
  KubernetesClient client;
  @TempDir Path work;
  @RegisterExtension final WorkerPools pools = new WorkerPools();
  private CheckpointWorkflow checkpoints;
  private RestoreWorkflow restores;

  @BeforeEach
  void setUp() throws Exception {
    assumeTrue(RuncContainer.available(), "runc and busybox-static are needed");
    AgentComponents components = TestEnv.components(work.resolve("store"));
    OperationService agentOps =
        OperationService.builder(
                components, new OperationJournal(work.resolve("journal")), pools.fixed(2))
            .nodeName(NODE)
            .start();
    var agents = new InProcessAgents(NODE, agentOps);
    Clock clock = Clock.systemUTC();
    var events = new EventRecorder(client, clock);
    var metrics = new OperatorMetrics(new SimpleMeterRegistry());
    OperatorConfig config = new Config();
    checkpoints =
        new CheckpointWorkflow(
            client, agents, new CheckpointStatusFactory(clock), events, metrics, config, clock);
    restores =
        new RestoreWorkflow(
            client, agents, new RestoreStatusFactory(clock), events, metrics, config, clock);
  }

  /** Reconciles like JOSDK would, waiting the requeue time for real, until settled. */
  private <R extends CustomResource<?, S>, S> R converge(
      Class<R> type, String name, Function<R, Decision<S>> step, Function<R, Boolean> hook)
      throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      R cr = client.resources(type).inNamespace(NS).withName(name).get();
      if (hook.apply(cr)) {
        cr = client.resources(type).inNamespace(NS).withName(name).get();
      }
      Decision<S> d = step.apply(cr);
      cr.setStatus(d.status());
      new StatusWriter(client).write(cr);
      if (d.requeueAfter().isEmpty()) {
        return client.resources(type).inNamespace(NS).withName(name).get();
      }
      Thread.sleep(100); // the real poll interval would be seconds; the agent answers quickly
    }
    throw new AssertionError(name + " did not settle");
  }

  private Pod registerRunningPod(String name, String containerId) {
    Pod pod =
        client
            .resource(
                new PodBuilder()
                    .withMetadata(
                        new ObjectMetaBuilder()
                            .withName(name)
                            .withNamespace(NS)
                            .withLabels(Map.of("app", "counter"))
                            .build())
                    .withNewSpec()
                    .withNodeName(NODE)
                    .addToContainers(
                        new ContainerBuilder()
                            .withName("app")
                            .withImage("busybox")
                            .withCommand("/app.sh")
                            .build())
                    .endSpec()
                    .build())
            .create();
    return markRunning(pod, "app", containerId);
  }

  private Pod markRunning(Pod pod, String container, String containerId) {
    pod.setStatus(
        new PodStatusBuilder()
            .withPhase("Running")
            .withContainerStatuses(
                new ContainerStatusBuilder()
                    .withName(container)
                    .withContainerID("containerd://" + containerId)
                    .withNewState()
                    .withNewRunning()
                    .endRunning()
                    .endState()
                    .build())
            .build());
    return client.resource(pod).updateStatus();
  }

  private static String reason(List<Condition> conditions, String type) {
    return conditions.stream()
        .filter(c -> c.type().name().equals(type))
        .findFirst()
        .map(Condition::reason)
        .orElse(null);
  }

  @Test
  void checkpointThroughTheCrThenRestoreIntoThePlaceholderTheOperatorCreated() throws Exception {
    String suffix = "e2e" + ProcessHandle.current().pid();
    try (RuncContainer src = RuncContainer.start(work, "src-" + suffix, List.of("/app.sh"))) {
      src.awaitLine("tick 3 ");
      registerRunningPod("counter-0", src.id);
      GpuCheckpoint ck = new GpuCheckpoint();
      ck.setMetadata(new ObjectMetaBuilder().withName("ck").withNamespace(NS).build());
      ck.setSpec(new GpuCheckpointSpec("counter-0", null, false, null, 120, null));
      client.resource(ck).create();

      ck =
          converge(
              GpuCheckpoint.class,
              "ck",
              LiveCheckpointWorld.steps(client, checkpoints),
              c -> false);
      assertThat(ck.getStatus().phase())
          .as(ck.getStatus().message())
          .isEqualTo(CheckpointPhase.Succeeded);
      assertThat(ck.getStatus().artifact().location()).startsWith("hostpath://" + NODE + "/");
      assertThat(ck.getStatus().artifact().digest()).startsWith("sha256:");
      assertThat(ck.getStatus().timings()).containsKey("dump");
      String lastTick =
          Files.readAllLines(src.volume.resolve("ticks")).stream()
              .reduce((a, b) -> b)
              .orElseThrow();

      GpuRestore r = new GpuRestore();
      r.setMetadata(new ObjectMetaBuilder().withName("counter-restored").withNamespace(NS).build());
      r.setSpec(new GpuRestoreSpec("ck", null, null, null, null));
      client.resource(r).create();
      RuncContainer[] placeholder = new RuncContainer[1];
      try {
        r =
            converge(
                GpuRestore.class,
                "counter-restored",
                LiveRestoreWorld.steps(client, restores),
                cr -> {
                  Pod pod = client.pods().inNamespace(NS).withName("counter-restored").get();
                  if (pod == null || placeholder[0] != null) {
                    return false;
                  }
                  // kubelet's part: start what the pod asks for (here: a placeholder that waits)
                  assertThat(pod.getSpec().getContainers().get(0).getCommand())
                      .containsExactly("/warmstart/pause");
                  assertThat(pod.getSpec().getNodeName()).isEqualTo(NODE);
                  try {
                    placeholder[0] =
                        RuncContainer.start(
                            work,
                            "dst-" + suffix,
                            List.of("sh", "-c", "ip link set lo up; exec sleep 1000000"));
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  markRunning(pod, "app", placeholder[0].id);
                  return true;
                });
        assertThat(r.getStatus().phase())
            .as(r.getStatus().message())
            .isEqualTo(RestorePhase.Running);
        assertThat(reason(r.getStatus().conditions(), "Ready")).isEqualTo("Succeeded");
        String first = placeholder[0].awaitLine("tick ");
        assertThat(Integer.parseInt(first.split(" ")[1]))
            .as("the counter went on from the checkpoint inside the placeholder")
            .isGreaterThan(Integer.parseInt(lastTick.split(" ")[1]));
      } finally {
        if (placeholder[0] != null) {
          placeholder[0].close();
        }
      }
    }
  }

  @Test
  void badInputsEndWithClearReasons() throws Exception {
    GpuCheckpoint noPod = new GpuCheckpoint();
    noPod.setMetadata(new ObjectMetaBuilder().withName("no-pod").withNamespace(NS).build());
    noPod.setSpec(new GpuCheckpointSpec("missing", null, null, null, null, null));
    client.resource(noPod).create();
    noPod =
        converge(
            GpuCheckpoint.class,
            "no-pod",
            LiveCheckpointWorld.steps(client, checkpoints),
            c -> false);
    assertThat(reason(noPod.getStatus().conditions(), "Accepted")).isEqualTo("PodNotFound");

    registerRunningPod("ghost", "no-such-container");
    GpuCheckpoint ghost = new GpuCheckpoint();
    ghost.setMetadata(new ObjectMetaBuilder().withName("ghost").withNamespace(NS).build());
    ghost.setSpec(new GpuCheckpointSpec("ghost", null, null, null, 60, null));
    client.resource(ghost).create();
    ghost =
        converge(
            GpuCheckpoint.class,
            "ghost",
            LiveCheckpointWorld.steps(client, checkpoints),
            c -> false);
    assertThat(ghost.getStatus().phase()).isEqualTo(CheckpointPhase.Failed);
    assertThat(reason(ghost.getStatus().conditions(), "Ready"))
        .as("the agent found no such container: %s", ghost.getStatus().message())
        .isEqualTo("ContainerNotFound");

    GpuRestore r = new GpuRestore();
    r.setMetadata(new ObjectMetaBuilder().withName("r").withNamespace(NS).build());
    r.setSpec(new GpuRestoreSpec("ghost", null, null, null, null));
    client.resource(r).create();
    r = converge(GpuRestore.class, "r", LiveRestoreWorld.steps(client, restores), c -> false);
    assertThat(reason(r.getStatus().conditions(), "Accepted")).isEqualTo("CheckpointFailed");
  }

  static final class Config implements OperatorConfig {
    public String agentNamespace() {
      return "warmstart-system";
    }

    public String agentSelector() {
      return "app.kubernetes.io/component=agent";
    }

    public int agentPort() {
      return 8443;
    }

    public Path agentTokenPath() {
      return Path.of("/nonexistent");
    }

    public Path agentCaPath() {
      return Path.of("/nonexistent");
    }

    public String agentServerName() {
      return "warmstart-agent.warmstart-system.svc";
    }

    public Duration pollInterval() {
      return Duration.ofMillis(100);
    }

    public int maxAttempts() {
      return 3;
    }

    public Duration retryBackoff() {
      return Duration.ofMillis(100);
    }

    public String placeholderImage() {
      return "ghcr.io/warmstart/node-agent:test";
    }

    public Duration placeholderTimeout() {
      return Duration.ofMinutes(2);
    }
  }
}
