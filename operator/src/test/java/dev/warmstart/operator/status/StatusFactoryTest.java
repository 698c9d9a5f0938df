package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.PlaceholderReady;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;
import static dev.warmstart.operator.support.ConditionAssert.assertThatConditions;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.v1alpha1.CheckpointPhase;
import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.RestorePhase;
import dev.warmstart.api.v1alpha1.WarmstartStatus;
import dev.warmstart.operator.support.MutableClock;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules the one status factory applies to every kind, without a server. */
class StatusFactoryTest {
  private final MutableClock clock = new MutableClock();

  private static <R extends io.fabric8.kubernetes.client.CustomResource<?, ?>> R named(
      R r, long generation) {
    r.setMetadata(
        new ObjectMetaBuilder()
            .withName("x")
            .withNamespace("ml")
            .withGeneration(generation)
            .build());
    return r;
  }

  private static Condition condition(WarmstartStatus s, ConditionType type) {
    return s.conditions().stream().filter(c -> c.type() == type).findFirst().orElseThrow();
  }

  @Test
  void lastTransitionTimeMovesOnlyWhenTheStatusDoes() {
    var factory = new RestoreStatusFactory(clock);
    GpuRestore cr = named(new GpuRestore(), 1);
    cr.setSpec(new GpuRestoreSpec("ck", null, null, null, null));
    cr.setStatus(factory.scheduling(cr, "x", "placeholder pod x created"));
    String since = condition(cr.getStatus(), PlaceholderReady).lastTransitionTime();

    clock.advance(Duration.ofSeconds(30));
    cr.setStatus(factory.scheduling(cr, "x", "waiting for placeholder pod x (Pending)"));
    assertThat(condition(cr.getStatus(), PlaceholderReady).lastTransitionTime())
        .as("same status, new message")
        .isEqualTo(since);
    assertThat(condition(cr.getStatus(), PlaceholderReady).message()).contains("Pending");

    clock.advance(Duration.ofSeconds(30));
    cr.setStatus(factory.dispatched(cr, "gpu-1", "op-1"));
    assertThat(condition(cr.getStatus(), PlaceholderReady).lastTransitionTime())
        .isEqualTo(clock.instant().toString());
    assertThat(cr.getStatus().conditions())
        .extracting(Condition::type)
        .as("one per type, ordered by type")
        .containsExactly(Accepted, Progressing, PlaceholderReady);
    assertThat(cr.getStatus().observedGeneration()).isEqualTo(1L);
    assertThat(cr.getStatus().attempts()).isEqualTo(1);
  }

  @Test
  void anOperatorErrorKeepsThePhaseAndIsReportedOnEachKindsCondition() {
    var restores = new RestoreStatusFactory(clock);
    GpuRestore r = named(new GpuRestore(), 2);
    r.setSpec(new GpuRestoreSpec("ck", null, null, null, null));
    r.setStatus(restores.scheduling(r, "x", "created"));
    var error = restores.reconcileError(r, "operator error: boom");
    assertThat(error.phase()).isEqualTo(RestorePhase.Scheduling);
    assertThat(error.message()).isEqualTo("operator error: boom");
    assertThatConditions(error.conditions())
        .has(Progressing, Unknown, "ReconcileError")
        .has(Accepted, True, "Validated");

    var checkpoints = new CheckpointStatusFactory(clock);
    GpuCheckpoint c = named(new GpuCheckpoint(), 1);
    c.setStatus(checkpoints.failed(c, ConditionReason.PodNotFound, "gone"));
    var cError = checkpoints.reconcileError(c, "boom");
    assertThat(cError.phase()).isEqualTo(CheckpointPhase.Failed);
    assertThatConditions(cError.conditions())
        .has(Progressing, Unknown, "ReconcileError")
        .has(Ready, False, "PodNotFound");

    GpuStandbyPool pool = named(new GpuStandbyPool(), 3);
    var pError = new PoolStatusFactory(clock).reconcileError(pool, "boom");
    assertThat(pError.ready()).isZero();
    assertThat(pError.standbys()).isEmpty();
    assertThat(pError.observedGeneration()).isEqualTo(3L);
    assertThatConditions(pError.conditions()).has(Ready, Unknown, "ReconcileError");

    GpuCheckpointSchedule schedule = named(new GpuCheckpointSchedule(), 1);
    var sError = new ScheduleStatusFactory(clock).reconcileError(schedule, "boom");
    assertThat(sError.message()).isEqualTo("boom");
    assertThat(sError.conditions()).hasSize(1);
    assertThatConditions(sError.conditions()).has(Ready, Unknown, "ReconcileError");
  }

  @Test
  void theSharedOperationRulesSpeakEachKindsPhases() {
    var checkpoints = new CheckpointStatusFactory(clock);
    GpuCheckpoint c = named(new GpuCheckpoint(), 1);
    c.setStatus(checkpoints.dispatched(c, "gpu-1", "op-1"));
    c.setStatus(checkpoints.retrying(c, "gpu-1", ConditionReason.AgentUnreachable, "down"));
    assertThat(c.getStatus().attempts()).isEqualTo(2);
    assertThat(c.getStatus().phase()).isEqualTo(CheckpointPhase.Checkpointing);
    c.setStatus(checkpoints.progressing(c, null));
    assertThat(c.getStatus().message()).isEqualTo("checkpoint running on node gpu-1: queued");
    c.setStatus(checkpoints.waiting(c, ConditionReason.NoAgentOnNode, "no agent"));
    assertThat(c.getStatus().phase()).isEqualTo(CheckpointPhase.Pending);
    assertThat(c.getStatus().operationId()).as("a new dispatch follows").isNull();

    var restores = new RestoreStatusFactory(clock);
    GpuRestore r = named(new GpuRestore(), 1);
    r.setSpec(new GpuRestoreSpec("ck", null, null, null, null));
    r.setStatus(restores.rejected(r, ConditionReason.CheckpointNotFound, "no ck"));
    assertThat(r.getStatus().phase()).isEqualTo(RestorePhase.Failed);
    assertThatConditions(r.getStatus().conditions())
        .has(Accepted, False, "CheckpointNotFound")
        .has(Ready, False, "CheckpointNotFound");
    GpuRestore p = named(new GpuRestore(), 1);
    p.setStatus(restores.failed(p, ConditionReason.PlaceholderUnschedulable, "no GPU"));
    assertThatConditions(p.getStatus().conditions())
        .has(PlaceholderReady, False, "PlaceholderUnschedulable")
        .has(Progressing, False, "PlaceholderUnschedulable");
    assertThat(List.of(p.getStatus().phase())).containsExactly(RestorePhase.Failed);
  }
}
