package dev.warmstart.agent.operation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.checkpoint.CheckpointService;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.agent.RestoreRequest;
import dev.warmstart.api.agent.RestoreStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operation service's decisions, without root or CRIU: idempotency keys (also across a
 * restart), which prepared restore an activation may claim, and what recovery makes of each state a
 * dead agent left in the journal. The operations here never reach CRIU (its binary does not exist):
 * they are settled by the decisions under test, or are deletes. OperationRecoveryIT and
 * FaultInjectionIT cover recovery around a real, interrupted CRIU.
 */
class OperationRecoveryTest {
  static final int GONE_PID = Integer.MAX_VALUE - 1;
  @TempDir Path dir;
  AgentComponents agent;
  @RegisterExtension final WorkerPools pools = new WorkerPools();

  @BeforeEach
  void components() throws Exception {
    agent =
        AgentComponents.create(
            AgentComponents.Settings.builder(
                    dir.resolve("store"), Path.of("/nonexistent/criu"), "n")
                .runcStateRoots(List.of())
                .build(),
            Clock.systemUTC());
  }

  OperationService start() throws Exception {
    return OperationService.builder(agent, journal(), pools.fixed(2)).nodeName("n").start();
  }

  OperationJournal journal() throws Exception {
    return new OperationJournal(dir.resolve("journal"));
  }

  static OperationStatus await(OperationService ops, String id) throws Exception {
    for (int i = 0; i < 500; i++) {
      OperationStatus s = ops.get(id).orElseThrow();
      if (s.state().isTerminal()) {
        return s;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("not finished: " + ops.get(id));
  }

  static OperationStatus status(
      String id, OperationRequest r, OperationState state, Integer restoredPid) {
    return new OperationStatus(
        id,
        r.idempotencyKey(),
        r.kind(),
        state,
        state == OperationState.RUNNING ? "dump" : null,
        "2026-01-01T00:00:00Z",
        state.isTerminal() ? "2026-01-01T00:00:01Z" : null,
        null,
        null,
        restoredPid,
        null);
  }

  void journaled(String id, OperationRequest r, OperationState state, Integer pid)
      throws Exception {
    journal().write(new OperationJournal.Entry(r, status(id, r, state, pid)));
  }

  static OperationRequest checkpointOf(String key, String image) {
    return OperationRequest.checkpoint(
        key, CheckpointRequest.builder(ProcessTarget.ofPid(GONE_PID), image, 60).build());
  }

  static OperationRequest preparedRestore(String key) {
    return OperationRequest.restore(
        key, RestoreRequest.builder("img", 60).stage(RestoreStage.PROCESSES).build());
  }

  @Test
  void aKeyAnswersItsFirstOperationAlsoAfterARestartAndRefusesAnotherBody() throws Exception {
    OperationService ops = start();
    OperationStatus first = ops.submit(OperationRequest.deleteImage("k", "img"));
    assertThat(ops.submit(OperationRequest.deleteImage("k", "img")).id()).isEqualTo(first.id());
    await(ops, first.id());

    OperationService restarted = start();
    assertThat(restarted.submit(OperationRequest.deleteImage("k", "img")).id())
        .isEqualTo(first.id());
    assertThat(restarted.list()).hasSize(1);
    assertThatThrownBy(() -> restarted.submit(OperationRequest.deleteImage("k", "other")))
        .isInstanceOf(OperationService.IdempotencyConflictException.class)
        .hasMessageContaining(first.id());
    assertThatThrownBy(() -> restarted.submit(OperationRequest.deleteImage(" ", "img")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("idempotencyKey");
  }

  @Test
  void acceptedWorkRunsAfterARestartAndAnInterruptedRestoreIsNotRepeated() throws Exception {
    journaled("accepted", OperationRequest.deleteImage("a", "img"), OperationState.ACCEPTED, null);
    journaled("restoring", preparedRestore("r"), OperationState.RUNNING, null);

    OperationService ops = start();
    assertThat(await(ops, "accepted").state()).isEqualTo(OperationState.SUCCEEDED);
    OperationStatus restore = ops.get("restoring").orElseThrow();
    assertThat(restore.state()).isEqualTo(OperationState.FAILED);
    assertThat(restore.error().reason()).isEqualTo(ErrorReason.Interrupted);
    assertThat(restore.error().message()).contains("during the restore", "not repeated");
    assertThat(ops.recovered()).singleElement().asString().startsWith("restoring: ");
  }

  @Test
  void anInterruptedCheckpointKeepsTheImageItCommittedAndOtherwiseSaysNoneWasKept()
      throws Exception {
    try (ScratchDir staging = agent.store().stage("done")) {
      Files.writeString(staging.dir().resolve("core-1.img"), "core");
      agent
          .store()
          .commit(
              staging,
              "done",
              false,
              m ->
                  m.toBuilder()
                      .labels(Map.of(CheckpointService.OPERATION_LABEL, "ck1"))
                      .timings(Map.of("total", 1L))
                      .build());
    }
    journaled("ck1", checkpointOf("c1", "done"), OperationState.RUNNING, null);
    journaled("ck2", checkpointOf("c2", "never"), OperationState.RUNNING, null);

    OperationService ops = start();
    OperationStatus kept = ops.get("ck1").orElseThrow();
    assertThat(kept.state()).isEqualTo(OperationState.SUCCEEDED);
    assertThat(kept.image().name()).isEqualTo("done");
    assertThat(kept.image().node()).isEqualTo("n");
    assertThat(kept.image().directory()).isEqualTo(dir.resolve("store/done").toString());
    OperationStatus lost = ops.get("ck2").orElseThrow();
    assertThat(lost.state()).isEqualTo(OperationState.FAILED);
    assertThat(lost.error().reason()).isEqualTo(ErrorReason.Interrupted);
    assertThat(lost.error().message()).contains("no image was kept");
    assertThat(ops.recovered())
        .anySatisfy(r -> assertThat(r).startsWith("ck1: ").contains("committed before"));
  }

  @Test
  void anActivationClaimsOnlyASucceededPreparedRestoreNotYetActivated() throws Exception {
    OperationRequest prepared = preparedRestore("p");
    journaled("prepared", prepared, OperationState.SUCCEEDED, GONE_PID);
    OperationRequest done =
        OperationRequest.activate("a1", new ActivateRequest("prepared", null, 60));
    journaled("activated", done, OperationState.SUCCEEDED, GONE_PID);
    journaled(
        "full",
        OperationRequest.restore("f", RestoreRequest.builder("img", 60).build()),
        OperationState.SUCCEEDED,
        GONE_PID);
    OperationService ops = start();

    OperationStatus again =
        await(
            ops,
            ops.submit(OperationRequest.activate("a2", new ActivateRequest("prepared", null, 60)))
                .id());
    assertThat(again.error().reason()).isEqualTo(ErrorReason.InvalidRequest);
    assertThat(again.error().message()).contains("already activated by operation activated");

    OperationStatus notPrepared =
        await(
            ops,
            ops.submit(OperationRequest.activate("a3", new ActivateRequest("full", null, 60)))
                .id());
    assertThat(notPrepared.error().message()).contains("not a prepared restore");
    assertThat(notPrepared.kind()).isEqualTo(OperationKind.ACTIVATE);
  }
}
