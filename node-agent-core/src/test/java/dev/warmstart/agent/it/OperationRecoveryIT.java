package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.agent.operation.WorkerPools;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** An agent restart neither loses nor repeats operations, and never leaves a workload frozen. */
class OperationRecoveryIT {
  @TempDir Path dir;
  AgentComponents agent;
  OperationJournal journal;
  @RegisterExtension final WorkerPools pools = new WorkerPools();
  ExecutorService executor;
  Process workload;

  @BeforeEach
  void setUp() throws Exception {
    executor = pools.fixed(2);
    agent = TestEnv.components(dir.resolve("store"));
    journal = new OperationJournal(dir.resolve("journal"));
    workload = new ProcessBuilder("setsid", "sleep", "600").start();
  }

  @AfterEach
  void tearDown() throws Exception {
    workload.destroyForcibly().waitFor();
  }

  private OperationService restartAgent() throws Exception {
    return OperationService.builder(agent, journal, executor).nodeName("test-node").start();
  }

  private OperationRequest checkpointOf(String key, String image) {
    return OperationRequest.checkpoint(
        key,
        CheckpointRequest.builder(ProcessTarget.ofPid((int) workload.pid()), image, 60).build());
  }

  private static OperationStatus status(String id, String key, OperationState state, String step) {
    return new OperationStatus(
        id,
        key,
        OperationKind.CHECKPOINT,
        state,
        step,
        "2026-01-01T00:00:00Z",
        null,
        null,
        null,
        null,
        null);
  }

  private static OperationStatus await(OperationService ops, String id)
      throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      OperationStatus s = ops.get(id).orElseThrow();
      if (s.state().isTerminal()) {
        return s;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("operation " + id + " did not finish");
  }

  @Test
  void interruptedCheckpointIsFailedNotRepeatedAndTheWorkloadResumed() throws Exception {
    // The agent died mid-dump with the workload stopped.
    new ProcessBuilder("kill", "-STOP", Long.toString(workload.pid())).start().waitFor();
    for (int i = 0; i < 100 && new Procfs().state((int) workload.pid()) != 'T'; i++) {
      Thread.sleep(20); // SIGSTOP takes effect asynchronously
    }
    assertThat(new Procfs().state((int) workload.pid())).isEqualTo('T');
    journal.write(
        new OperationJournal.Entry(
            checkpointOf("k1", "img1"), status("op-1", "k1", OperationState.RUNNING, "dump")));

    OperationService ops = restartAgent();

    OperationStatus s = ops.get("op-1").orElseThrow();
    assertThat(s.state()).isEqualTo(OperationState.FAILED);
    assertThat(s.error().reason()).isEqualTo(ErrorReason.Interrupted);
    assertThat(s.error().message()).contains("resumed 1 stopped task");
    assertThat(new Procfs().state((int) workload.pid()))
        .as("workload no longer frozen")
        .isNotEqualTo('T');
    assertThat(agent.store().list()).isEmpty();
    // the same key still answers with that operation: no second checkpoint
    assertThat(ops.submit(checkpointOf("k1", "img1")).id()).isEqualTo("op-1");
    assertThat(agent.store().list()).isEmpty();
  }

  @Test
  void aContainerTargetLeftStoppedIsResumed() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        RuncContainer.available(), "runc and busybox-static are needed");
    String id = "ws-recover-" + ProcessHandle.current().pid();
    try (RuncContainer c = RuncContainer.start(dir.resolve("c"), id, List.of("sleep", "600"))) {
      int init = c.initPid();
      // The agent died mid-dump of the container: its tree is stopped, the request names no PID.
      dev.warmstart.agent.proc.Signals.send(init, dev.warmstart.agent.proc.Signals.SIGSTOP);
      for (int i = 0; i < 100 && new Procfs().state(init) != 'T'; i++) {
        Thread.sleep(20);
      }
      assertThat(new Procfs().state(init)).isEqualTo('T');
      journal.write(
          new OperationJournal.Entry(
              OperationRequest.checkpoint(
                  "kc",
                  CheckpointRequest.builder(ProcessTarget.ofContainer(id), "imgc", 60).build()),
              status("op-c", "kc", OperationState.RUNNING, "dump")));

      OperationStatus s = restartAgent().get("op-c").orElseThrow();

      assertThat(s.error().reason()).isEqualTo(ErrorReason.Interrupted);
      assertThat(s.error().message()).contains("resumed 1 stopped task");
      assertThat(new Procfs().state(init)).as("container no longer frozen").isNotEqualTo('T');
    }
  }

  @Test
  void acceptedButNotStartedWorkRunsAfterRestart() throws Exception {
    journal.write(
        new OperationJournal.Entry(
            checkpointOf("k2", "img2"), status("op-2", "k2", OperationState.ACCEPTED, null)));

    OperationStatus s = await(restartAgent(), "op-2");

    assertThat(s.state()).as("%s", s.error()).isEqualTo(OperationState.SUCCEEDED);
    assertThat(s.image().manifestDigest()).isEqualTo(agent.store().open("img2").digest());
  }

  @Test
  void checkpointFinishedJustBeforeTheCrashIsRecognised() throws Exception {
    OperationService first = restartAgent();
    OperationStatus done = await(first, first.submit(checkpointOf("k3", "img3")).id());
    String digest = agent.store().open("img3").digest();
    // Pretend the crash came after the image was committed but before the journal said so.
    journal.write(
        new OperationJournal.Entry(
            checkpointOf("k3", "img3"), status(done.id(), "k3", OperationState.RUNNING, "store")));

    OperationStatus s = restartAgent().get(done.id()).orElseThrow();

    assertThat(s.state()).isEqualTo(OperationState.SUCCEEDED);
    assertThat(s.image().manifestDigest()).isEqualTo(digest);
    assertThat(agent.store().open("img3").digest()).as("not checkpointed again").isEqualTo(digest);
  }

  @Test
  void aCheckpointOfAnExistingNameFailsUnlessTheRequestAsksToReplace() throws Exception {
    OperationService ops = restartAgent();
    OperationStatus first = await(ops, ops.submit(checkpointOf("r1", "same")).id());
    assertThat(first.state()).isEqualTo(OperationState.SUCCEEDED);

    OperationStatus refused = await(ops, ops.submit(checkpointOf("r2", "same")).id());
    assertThat(refused.state()).isEqualTo(OperationState.FAILED);
    assertThat(refused.error().reason()).isEqualTo(ErrorReason.ImageExists);
    assertThat(agent.store().open("same").digest())
        .as("the image is the first one")
        .isEqualTo(first.image().manifestDigest());

    OperationStatus replaced =
        await(
            ops,
            ops.submit(
                    OperationRequest.checkpoint(
                        "r3",
                        CheckpointRequest.builder(
                                ProcessTarget.ofPid((int) workload.pid()), "same", 60)
                            .replace(true)
                            .build()))
                .id());
    assertThat(replaced.state()).as("%s", replaced.error()).isEqualTo(OperationState.SUCCEEDED);
    assertThat(agent.store().open("same").digest()).isEqualTo(replaced.image().manifestDigest());
  }
}
