package dev.warmstart.operator.reconciler.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ImageSummary;
import dev.warmstart.api.agent.OperationError;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.CheckpointStorage;
import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * CheckpointDecider as a pure function: observed objects built in memory, no API server or agent.
 */
class CheckpointDeciderTest {
  private static final Instant NOW = Instant.parse("2026-11-30T10:00:00Z");
  private final CheckpointDecider decider = new CheckpointDecider(Duration.ofMinutes(10));

  private static GpuCheckpoint checkpoint(CheckpointStorage storage, GpuCheckpointStatus status) {
    GpuCheckpoint c = new GpuCheckpoint();
    c.setMetadata(
        new ObjectMetaBuilder().withName("ck").withNamespace("ml").withUid("uid-c").build());
    c.setSpec(new GpuCheckpointSpec("llm-0", null, null, storage, 60, null));
    c.setStatus(status);
    return c;
  }

  private static Pod pod(String name, String phase, Instant created) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withCreationTimestamp(created.toString())
        .endMetadata()
        .withNewSpec()
        .withNodeName("gpu-1")
        .addNewContainer()
        .withName("server")
        .withNewResources()
        .addToLimits("nvidia.com/gpu", new Quantity("1"))
        .endResources()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .addNewContainerStatus()
        .withName("server")
        .withContainerID("containerd://" + name + "-cid")
        .withNewState()
        .withNewRunning()
        .endRunning()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  private static GpuCheckpointStatus checkpointing(Instant since) {
    return new GpuCheckpointStatus(
        CheckpointPhase.Checkpointing,
        "gpu-1",
        1L,
        List.of(
            new Condition(
                ConditionType.Progressing,
                ConditionStatus.True,
                "Dispatched",
                "x",
                1L,
                since.toString())),
        null,
        null,
        "op-1",
        1,
        null);
  }

  private static OperationStatus op(OperationState state, ErrorReason error) {
    return new OperationStatus(
        "op-1",
        "gck-uid-c",
        OperationKind.CHECKPOINT,
        state,
        "dump",
        NOW.toString(),
        null,
        Map.of("dump", 500L),
        new ImageSummary(
            "ml.ck", "gpu-1", "/var/lib/warmstart/ml.ck", 1L << 20, "sha256:d", null, "4.2", null),
        null,
        error == null ? null : new OperationError(error, "no"));
  }

  @Test
  void thePodDecidesWhetherToRejectWaitOrDispatch() {
    GpuCheckpoint cr = checkpoint(null, null);
    assertThat(
            decider.decide(new CheckpointObservation(cr, NOW, Optional.empty(), Optional.empty())))
        .isEqualTo(new CheckpointAction.Reject(ConditionReason.PodNotFound, "pod llm-0 not found"));
    assertThat(
            decider.decide(
                new CheckpointObservation(
                    cr, NOW, Optional.of(pod("llm-0", "Pending", NOW)), Optional.empty())))
        .isInstanceOfSatisfying(
            CheckpointAction.Wait.class,
            w -> assertThat(w.reason()).isEqualTo(ConditionReason.PodNotRunning));
    assertThat(
            decider.decide(
                new CheckpointObservation(
                    cr, NOW, Optional.of(pod("llm-0", "Running", NOW)), Optional.empty())))
        .isInstanceOfSatisfying(
            CheckpointAction.Dispatch.class,
            d -> {
              assertThat(d.node()).isEqualTo("gpu-1");
              assertThat(d.request().idempotencyKey()).isEqualTo("gck-uid-c");
              assertThat(d.request().checkpoint().imageName()).isEqualTo("ml.ck");
              assertThat(d.request().checkpoint().target().containerId()).isEqualTo("llm-0-cid");
              assertThat(d.request().checkpoint().exportTo()).isNull();
            });
  }

  @Test
  void aClaimNeedsItsStoragePodRunningBeforeTheDispatch() {
    GpuCheckpoint cr =
        checkpoint(
            new CheckpointStorage(null, new PersistentVolumeClaimStorage("images", null)), null);
    Optional<Pod> source = Optional.of(pod("llm-0", "Running", NOW));
    assertThat(decider.decide(new CheckpointObservation(cr, NOW, source, Optional.empty())))
        .isInstanceOfSatisfying(
            CheckpointAction.CreateStoragePod.class, c -> assertThat(c.node()).isEqualTo("gpu-1"));
    Pod starting = pod("ck-store", "Pending", NOW.minusSeconds(30));
    assertThat(decider.decide(new CheckpointObservation(cr, NOW, source, Optional.of(starting))))
        .isInstanceOfSatisfying(
            CheckpointAction.Wait.class,
            w -> assertThat(w.reason()).isEqualTo(ConditionReason.StoragePending));
    Pod stuck = pod("ck-store", "Pending", NOW.minus(Duration.ofMinutes(11)));
    assertThat(decider.decide(new CheckpointObservation(cr, NOW, source, Optional.of(stuck))))
        .isInstanceOfSatisfying(
            CheckpointAction.Fail.class,
            f -> assertThat(f.reason()).isEqualTo(ConditionReason.StoragePending));
    Pod store = pod("ck-store", "Running", NOW);
    assertThat(decider.decide(new CheckpointObservation(cr, NOW, source, Optional.of(store))))
        .isInstanceOfSatisfying(
            CheckpointAction.Dispatch.class,
            d -> {
              assertThat(d.request().checkpoint().exportTo().containerId())
                  .isEqualTo("ck-store-cid");
              assertThat(d.request().checkpoint().exportTo().subPath()).isEqualTo("warmstart");
            });
  }

  @Test
  void theOperationsOutcomeOrItsOverrunEndsTheCheckpoint() {
    GpuCheckpoint cr = checkpoint(null, checkpointing(NOW.minusSeconds(30)));
    CheckpointObservation o =
        new CheckpointObservation(
            cr, NOW, Optional.of(pod("llm-0", "Running", NOW)), Optional.empty());
    assertThat(decider.decide(o)).isEqualTo(new CheckpointAction.Follow("gpu-1", "op-1", o));
    assertThat(decider.afterOperation(o, op(OperationState.RUNNING, null)))
        .isEqualTo(new CheckpointAction.Progress("dump"));
    assertThat(decider.afterOperation(o, op(OperationState.SUCCEEDED, null)))
        .isInstanceOfSatisfying(
            CheckpointAction.Succeed.class,
            s -> {
              assertThat(s.artifact().node()).isEqualTo("gpu-1");
              assertThat(s.artifact().imageName()).isEqualTo("ml.ck");
              assertThat(s.artifact().path()).isEqualTo("/var/lib/warmstart/ml.ck");
              assertThat(s.artifact().storage()).isEqualTo(CheckpointStorage.nodeLocal());
              assertThat(s.artifact().onClaim()).isFalse();
              assertThat(s.artifact().location())
                  .as("a display derived from the fields")
                  .isEqualTo("hostpath://gpu-1/var/lib/warmstart/ml.ck");
              assertThat(s.artifact().containerName()).isEqualTo("server");
              assertThat(s.artifact().sourcePodTemplate()).isNotNull();
            });
    assertThat(decider.afterOperation(o, op(OperationState.FAILED, ErrorReason.HookFailed)))
        .isEqualTo(new CheckpointAction.Fail(ConditionReason.HookFailed, "HookFailed: no"));
    GpuCheckpoint late = checkpoint(null, checkpointing(NOW.minusSeconds(60 + 121)));
    CheckpointObservation overdue =
        new CheckpointObservation(late, NOW, Optional.empty(), Optional.empty());
    assertThat(decider.afterOperation(overdue, op(OperationState.RUNNING, null)))
        .isEqualTo(
            new CheckpointAction.Fail(ConditionReason.Timeout, "no result within 60 s (+120 s)"));
  }

  @Test
  void theSourcePodIsReadToDispatchAndAtSuccessButNotWhileTheCaptureRuns() {
    int[] reads = {0};
    CheckpointWorld world =
        new CheckpointWorld() {
          @Override
          public Optional<Pod> sourcePod(String namespace, String name) {
            reads[0]++;
            return Optional.of(pod(name, "Running", NOW));
          }

          @Override
          public Optional<Pod> storagePod(String namespace, String name) {
            return Optional.empty();
          }
        };
    assertThat(CheckpointObservation.of(checkpoint(null, null), world, NOW).pod()).isPresent();
    assertThat(reads[0]).isEqualTo(1);
    CheckpointObservation running =
        CheckpointObservation.of(checkpoint(null, checkpointing(NOW)), world, NOW);
    assertThat(running.pod()).isEmpty();
    assertThat(reads[0]).as("no pod read per poll").isEqualTo(1);
    assertThat(running.withSourcePod(world).pod()).isPresent();
    assertThat(reads[0]).isEqualTo(2);
  }
}
