package dev.warmstart.operator.reconciler.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationError;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.RestoreStage;
import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolSpec;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.api.v1alpha1.StandbyMode;
import dev.warmstart.operator.reconciler.OwnerReferences;
import dev.warmstart.operator.reconciler.restore.RestoreAction.Stage;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RestoreDecider as a pure function: observed objects built in memory, no API server, no agent. */
class RestoreDeciderTest {
  private static final Instant NOW = Instant.parse("2026-11-30T10:00:00Z");
  private final RestoreDecider decider = new RestoreDecider(Duration.ofMinutes(10));

  private static GpuRestore restore(GpuRestoreSpec spec, GpuRestoreStatus status) {
    GpuRestore r = new GpuRestore();
    r.setMetadata(
        new ObjectMetaBuilder().withName("r").withNamespace("ml").withUid("uid-r").build());
    r.setSpec(spec);
    r.setStatus(status);
    return r;
  }

  private static GpuRestoreStatus status(
      RestorePhase phase, String op, String activation, String standby) {
    return new GpuRestoreStatus(
        phase, "gpu-1", "r", 1L, List.of(), null, op, 1, activation, standby, null);
  }

  private static GpuCheckpoint checkpoint(CheckpointPhase phase, String node) {
    GpuCheckpoint c = new GpuCheckpoint();
    c.setMetadata(new ObjectMetaBuilder().withName("ck").withNamespace("ml").build());
    c.setSpec(new GpuCheckpointSpec("llm-0", null, null, null, null, null));
    CheckpointArtifact artifact =
        phase == CheckpointPhase.Succeeded
            ? CheckpointArtifact.builder(node, "ml.ck")
                .path("/var/lib/x")
                .sizeBytes(1L << 20)
                .digest("sha256:abc")
                .createdAt(NOW.toString())
                .sourcePodTemplate(new PodTemplateSpecBuilder().withNewSpec().endSpec().build())
                .containerName("server")
                .criuVersion("4.2")
                .build()
            : null;
    c.setStatus(
        new GpuCheckpointStatus(
            phase, "gpu-1", 1L, List.of(), artifact, null, "op-c", 1, "it broke"));
    return c;
  }

  private static RestoreObservation seen(
      GpuRestore cr, Optional<GpuCheckpoint> ck, Optional<Pod> placeholder) {
    return new RestoreObservation(
        cr, NOW, ck, placeholder, Optional.empty(), List.of(), Optional.empty());
  }

  private static Pod placeholder(GpuRestore owner, String phase, Instant created) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("r")
        .withCreationTimestamp(created.toString())
        .withOwnerReferences(OwnerReferences.controller(owner))
        .endMetadata()
        .withNewSpec()
        .withNodeName("gpu-1")
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .addNewContainerStatus()
        .withName("server")
        .withContainerID("containerd://cid-1")
        .withNewState()
        .withNewRunning()
        .endRunning()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  private static OperationStatus op(OperationState state, ErrorReason error) {
    return new OperationStatus(
        "op-1",
        "gr-uid-r",
        OperationKind.RESTORE,
        state,
        "criuRestore",
        NOW.toString(),
        null,
        Map.of("total", 900L),
        null,
        4242,
        error == null ? null : new OperationError(error, "no"));
  }

  private static final GpuRestoreSpec PLAIN = new GpuRestoreSpec("ck", null, null, null, null);

  @Test
  void aFailedRestoresOwnPlaceholderGoesAndARunningOnesStays() {
    GpuRestore failed = restore(PLAIN, status(RestorePhase.Failed, null, null, null));
    assertThat(
            decider.decide(
                seen(failed, Optional.empty(), Optional.of(placeholder(failed, "Pending", NOW)))))
        .isInstanceOf(RestoreAction.RemovePlaceholder.class);
    Pod someoneElses = placeholder(failed, "Running", NOW);
    someoneElses.getMetadata().getOwnerReferences().get(0).setUid("other");
    assertThat(decider.decide(seen(failed, Optional.empty(), Optional.of(someoneElses))))
        .as("a pod it does not own is left alone")
        .isInstanceOf(RestoreAction.Keep.class);
    GpuRestore running = restore(PLAIN, status(RestorePhase.Running, null, null, null));
    assertThat(
            decider.decide(
                seen(running, Optional.empty(), Optional.of(placeholder(running, "Running", NOW)))))
        .isInstanceOf(RestoreAction.Keep.class);
  }

  @Test
  void aTerminalRestoreIsLeftAsItIs() {
    GpuRestore cr = restore(PLAIN, status(RestorePhase.Failed, null, null, null));
    assertThat(decider.decide(seen(cr, Optional.empty(), Optional.empty())))
        .isInstanceOf(RestoreAction.Keep.class);
  }

  @Test
  void theCheckpointDecidesWhetherToWaitRejectOrCreateThePlaceholder() {
    GpuRestore cr = restore(PLAIN, null);
    assertThat(decider.decide(seen(cr, Optional.empty(), Optional.empty())))
        .isEqualTo(
            new RestoreAction.Reject(
                ConditionReason.CheckpointNotFound, "GpuCheckpoint ck not found in ml"));
    assertThat(
            decider.decide(
                seen(
                    cr,
                    Optional.of(checkpoint(CheckpointPhase.Checkpointing, null)),
                    Optional.empty())))
        .isEqualTo(
            new RestoreAction.Wait(
                ConditionReason.CheckpointNotReady,
                "waiting for GpuCheckpoint ck (Checkpointing)"));
    assertThat(
            decider.decide(
                seen(cr, Optional.of(checkpoint(CheckpointPhase.Failed, null)), Optional.empty())))
        .isEqualTo(
            new RestoreAction.Reject(
                ConditionReason.CheckpointFailed, "GpuCheckpoint ck failed: it broke"));
    GpuCheckpoint done = checkpoint(CheckpointPhase.Succeeded, "gpu-1");
    assertThat(decider.decide(seen(cr, Optional.of(done), Optional.empty())))
        .isInstanceOfSatisfying(
            RestoreAction.CreatePlaceholder.class,
            c -> {
              assertThat(c.node()).isEqualTo("gpu-1");
              assertThat(c.claim()).isEmpty();
            });
    GpuRestore elsewhere = restore(new GpuRestoreSpec("ck", null, "gpu-2", null, null), null);
    assertThat(decider.decide(seen(elsewhere, Optional.of(done), Optional.empty())))
        .isInstanceOfSatisfying(
            RestoreAction.Reject.class,
            r -> assertThat(r.reason()).isEqualTo(ConditionReason.NodeMismatch));
  }

  @Test
  void thePlaceholderDecidesWhetherToWaitFailOrDispatch() {
    GpuRestore cr = restore(PLAIN, null);
    Optional<GpuCheckpoint> done = Optional.of(checkpoint(CheckpointPhase.Succeeded, "gpu-1"));
    Pod pending = placeholder(cr, "Pending", NOW.minusSeconds(60));
    pending.getStatus().setContainerStatuses(List.of());
    assertThat(decider.decide(seen(cr, done, Optional.of(pending))))
        .isEqualTo(
            new RestoreAction.AwaitPlaceholder("r", "waiting for placeholder pod r (Pending)"));
    Pod late = placeholder(cr, "Pending", NOW.minus(Duration.ofMinutes(11)));
    late.getStatus().setContainerStatuses(List.of());
    assertThat(decider.decide(seen(cr, done, Optional.of(late))))
        .isInstanceOfSatisfying(
            RestoreAction.Fail.class,
            f -> assertThat(f.reason()).isEqualTo(ConditionReason.PlaceholderUnschedulable));
    Pod someoneElses = placeholder(restore(PLAIN, null), "Running", NOW);
    someoneElses.getMetadata().getOwnerReferences().get(0).setUid("other");
    assertThat(decider.decide(seen(cr, done, Optional.of(someoneElses))))
        .isInstanceOfSatisfying(
            RestoreAction.Reject.class,
            r -> assertThat(r.reason()).isEqualTo(ConditionReason.PlaceholderFailed));
    assertThat(decider.decide(seen(cr, done, Optional.of(placeholder(cr, "Failed", NOW)))))
        .isInstanceOfSatisfying(
            RestoreAction.Fail.class,
            f -> assertThat(f.reason()).isEqualTo(ConditionReason.PlaceholderFailed));
    assertThat(decider.decide(seen(cr, done, Optional.of(placeholder(cr, "Running", NOW)))))
        .isInstanceOfSatisfying(
            RestoreAction.Dispatch.class,
            d -> {
              assertThat(d.node()).isEqualTo("gpu-1");
              assertThat(d.request().idempotencyKey()).isEqualTo("gr-uid-r");
              assertThat(d.request().restore().intoContainerId()).isEqualTo("cid-1");
              assertThat(d.request().restore().imageName()).isEqualTo("ml.ck");
              assertThat(d.request().restore().expectedImageDigest()).isEqualTo("sha256:abc");
              assertThat(d.request().restore().stage()).isEqualTo(RestoreStage.RUNNING);
            });
  }

  @Test
  void anOperationInFlightIsFollowedAndItsOutcomeDecidesThePhase() {
    GpuRestore cr = restore(PLAIN, status(RestorePhase.Restoring, "op-1", null, null));
    assertThat(decider.decide(seen(cr, Optional.empty(), Optional.empty())))
        .isEqualTo(new RestoreAction.Follow("gpu-1", "op-1", Stage.RESTORE));
    assertThat(decider.afterOperation(cr, Stage.RESTORE, op(OperationState.RUNNING, null)))
        .isEqualTo(new RestoreAction.Progress("criuRestore"));
    assertThat(decider.afterOperation(cr, Stage.RESTORE, op(OperationState.SUCCEEDED, null)))
        .isInstanceOf(RestoreAction.Restored.class);
    assertThat(
            decider.afterOperation(
                cr, Stage.RESTORE, op(OperationState.FAILED, ErrorReason.IncompatibleGpu)))
        .isEqualTo(new RestoreAction.Fail(ConditionReason.IncompatibleGpu, "IncompatibleGpu: no"));
    GpuRestore warm =
        restore(
            new GpuRestoreSpec("ck", null, null, null, null, StandbyMode.Warm),
            status(RestorePhase.Restoring, "op-1", null, null));
    assertThat(decider.afterOperation(warm, Stage.RESTORE, op(OperationState.SUCCEEDED, null)))
        .isInstanceOf(RestoreAction.StandbyReady.class);
  }

  @Test
  void aStandbyWaitsForItsAnnotationThenIsActivatedAndFollowed() {
    GpuRestoreSpec warm = new GpuRestoreSpec("ck", null, null, null, null, StandbyMode.Warm);
    GpuRestore cr = restore(warm, status(RestorePhase.Standby, "op-1", null, null));
    assertThat(decider.decide(seen(cr, Optional.empty(), Optional.empty())))
        .isInstanceOf(RestoreAction.Recheck.class);
    cr.getMetadata().setAnnotations(Map.of(GpuRestoreSpec.ACTIVATE_ANNOTATION, "true"));
    assertThat(decider.decide(seen(cr, Optional.empty(), Optional.empty())))
        .isInstanceOfSatisfying(
            RestoreAction.Activate.class,
            a -> {
              assertThat(a.request().idempotencyKey()).isEqualTo("gra-uid-r");
              assertThat(a.request().activate().restoreOperationId()).isEqualTo("op-1");
            });
    GpuRestore activating = restore(warm, status(RestorePhase.Restoring, "op-1", "op-2", null));
    assertThat(decider.decide(seen(activating, Optional.empty(), Optional.empty())))
        .isEqualTo(new RestoreAction.Follow("gpu-1", "op-2", Stage.ACTIVATION));
    assertThat(
            decider.afterOperation(
                activating,
                Stage.ACTIVATION,
                op(OperationState.FAILED, ErrorReason.ProcessNotFound)))
        .isInstanceOfSatisfying(
            RestoreAction.Fail.class,
            f -> assertThat(f.reason()).isEqualTo(ConditionReason.StandbyLost));
  }

  private static GpuRestore member(String name, RestorePhase phase, String node) {
    GpuRestore m = restore(PLAIN, status(phase, "op-" + name, null, null));
    m.getMetadata().setName(name);
    m.setStatus(
        new GpuRestoreStatus(
            phase,
            node,
            name,
            1L,
            List.of(
                new Condition(
                    ConditionType.Ready,
                    ConditionStatus.False,
                    "IncompatibleGpu",
                    "x",
                    1L,
                    NOW.toString())),
            null,
            "op",
            1,
            null,
            null,
            "broke"));
    return m;
  }

  @Test
  void aPooledRestoreTakesAReadyStandbyPreferringItsNodeAndFollowsIt() {
    GpuRestore cr = restore(new GpuRestoreSpec("ck", null, "gpu-2", null, null, null, "p"), null);
    GpuStandbyPool pool = new GpuStandbyPool();
    pool.setMetadata(new ObjectMetaBuilder().withName("p").withNamespace("ml").build());
    pool.setSpec(new GpuStandbyPoolSpec("ck", 2, StandbyMode.Warm, null));
    RestoreObservation none =
        new RestoreObservation(
            cr,
            NOW,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            List.of(),
            Optional.empty());
    assertThat(decider.decide(none))
        .isEqualTo(
            new RestoreAction.Reject(ConditionReason.PoolNotFound, "GpuStandbyPool p not found"));
    List<GpuRestore> members =
        List.of(
            member("a", RestorePhase.Standby, "gpu-1"),
            member("b", RestorePhase.Standby, "gpu-2"),
            member("c", RestorePhase.Restoring, "gpu-2"));
    RestoreObservation ready =
        new RestoreObservation(
            cr,
            NOW,
            Optional.empty(),
            Optional.empty(),
            Optional.of(pool),
            members,
            Optional.empty());
    assertThat(decider.decide(ready))
        .isInstanceOfSatisfying(
            RestoreAction.Claim.class,
            c -> assertThat(c.standby().getMetadata().getName()).isEqualTo("b"));
    RestoreObservation empty =
        new RestoreObservation(
            cr,
            NOW,
            Optional.empty(),
            Optional.empty(),
            Optional.of(pool),
            List.of(members.get(2)),
            Optional.empty());
    assertThat(decider.decide(empty))
        .isInstanceOfSatisfying(
            RestoreAction.Wait.class,
            w -> assertThat(w.reason()).isEqualTo(ConditionReason.NoStandbyReady));

    GpuRestore claimed = restore(cr.getSpec(), status(RestorePhase.Restoring, null, null, "b"));
    RestoreObservation gone =
        new RestoreObservation(
            claimed,
            NOW,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            List.of(),
            Optional.empty());
    assertThat(decider.decide(gone))
        .isEqualTo(new RestoreAction.FailPooled(ConditionReason.StandbyLost, "standby b is gone"));
    RestoreObservation failed =
        new RestoreObservation(
            claimed,
            NOW,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            List.of(),
            Optional.of(member("b", RestorePhase.Failed, "gpu-2")));
    assertThat(decider.decide(failed))
        .as("the pooled restore fails for the standby's own reason")
        .isEqualTo(
            new RestoreAction.FailPooled(
                ConditionReason.IncompatibleGpu, "standby b failed: broke"));
  }
}
