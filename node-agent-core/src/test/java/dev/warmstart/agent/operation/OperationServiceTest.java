package dev.warmstart.agent.operation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.HttpHook;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operation service's own limits (G8, G9): a bounded number of operations with 429 beyond it,
 * operations waiting for their image hold no thread, a THP switch that cannot be written fails
 * nothing, and finished operations do not pile up. CRIU is not needed: these operations never reach
 * it.
 */
class OperationServiceTest {
  @TempDir Path dir;
  @RegisterExtension final WorkerPools pools = new WorkerPools();

  private OperationService service(ExecutorService executor, HugePages thp, int capacity, int kept)
      throws Exception {
    AgentComponents agent =
        AgentComponents.create(
            AgentComponents.Settings.builder(
                    dir.resolve("store"), Path.of("/nonexistent/criu"), "n")
                .runcStateRoots(List.of())
                .build(),
            Clock.systemUTC());
    return OperationService.builder(agent, new OperationJournal(dir.resolve("journal")), executor)
        .nodeName("n")
        .hugePages(thp)
        .capacity(capacity)
        .keptFinished(kept)
        .start();
  }

  private static OperationStatus await(OperationService ops, String id) throws Exception {
    for (int i = 0; i < 600; i++) {
      OperationStatus s = ops.get(id).orElseThrow();
      if (s.state().isTerminal()) {
        return s;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("not finished: " + ops.get(id));
  }

  @Test
  void beyondItsCapacityTheServiceRefusesAndTakesWorkAgainOnceFree() throws Exception {
    ExecutorService one = pools.fixed(1);
    CountDownLatch release = new CountDownLatch(1);
    one.execute(
        () -> {
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    OperationService ops = service(one, null, 2, 100);
    String a = ops.submit(OperationRequest.deleteImage("a", "img-a")).id();
    String b = ops.submit(OperationRequest.deleteImage("b", "img-b")).id();
    assertThatThrownBy(() -> ops.submit(OperationRequest.deleteImage("c", "img-c")))
        .isInstanceOf(OperationService.BusyException.class)
        .hasMessageContaining("the most it takes (2)");
    assertThat(ops.submit(OperationRequest.deleteImage("a", "img-a")).id())
        .as("a known key still answers")
        .isEqualTo(a);
    release.countDown();
    assertThat(await(ops, a).state()).isEqualTo(OperationState.SUCCEEDED);
    assertThat(await(ops, b).state()).isEqualTo(OperationState.SUCCEEDED);
    String c = ops.submit(OperationRequest.deleteImage("c", "img-c")).id();
    assertThat(await(ops, c).state()).isEqualTo(OperationState.SUCCEEDED);
  }

  @Test
  void anOperationWaitingForItsImageHoldsNoThread() throws Exception {
    // The workload itself listens and never answers (a hook may only reach the target's own
    // listeners): its checkpoints hang in their pre-checkpoint hook until the hook's timeout.
    Process target =
        new ProcessBuilder(
                "python3",
                "-c",
                "import socket, time\n"
                    + "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)\n"
                    + "print(s.getsockname()[1], flush=True); time.sleep(120)")
            .start();
    try {
      int port =
          Integer.parseInt(
              new java.io.BufferedReader(
                      new java.io.InputStreamReader(
                          target.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII))
                  .readLine()
                  .trim());
      OperationService ops = service(pools.fixed(2), null, 10, 100);
      HttpHook hanging = new HttpHook(null, "/", port, 6);
      CheckpointRequest slow =
          CheckpointRequest.builder(ProcessTarget.ofPid((int) target.pid()), "x", 60)
              .preCheckpointHook(hanging)
              .build();
      String first = ops.submit(OperationRequest.checkpoint("1", slow)).id();
      String second = ops.submit(OperationRequest.checkpoint("2", slow)).id();
      Thread.sleep(300);
      long t = System.nanoTime();
      String other = ops.submit(OperationRequest.deleteImage("3", "y")).id();
      assertThat(await(ops, other).state()).isEqualTo(OperationState.SUCCEEDED);
      assertThat((System.nanoTime() - t) / 1_000_000)
          .as("another image's operation ran at once on the second thread")
          .isLessThan(3000);
      assertThat(ops.get(first).orElseThrow().state()).isEqualTo(OperationState.RUNNING);
      assertThat(ops.get(second).orElseThrow().state())
          .as("queued behind the first")
          .isEqualTo(OperationState.ACCEPTED);
      assertThat(await(ops, first).error().reason()).isEqualTo(ErrorReason.HookFailed);
      assertThat(await(ops, second).error().reason()).isEqualTo(ErrorReason.HookFailed);
    } finally {
      target.destroyForcibly();
    }
  }

  @Test
  void aThpSwitchThatCannotBeWrittenFailsNoOperation() throws Exception {
    Path sysfs = Files.createDirectory(dir.resolve("enabled")); // reading or writing it fails
    HugePages thp = new HugePages(Optional.of("always"), sysfs, dir.resolve("thp-original"));
    OperationService ops = service(pools.fixed(1), thp, 10, 100);
    String id =
        ops.submit(OperationRequest.activate("k", new ActivateRequest("no-such-restore", null, 60)))
            .id();
    OperationStatus s = await(ops, id);
    assertThat(s.error().reason()).as("%s", s.error()).isEqualTo(ErrorReason.InvalidRequest);
  }

  @Test
  void onlyTheNewestFinishedOperationsAreKept() throws Exception {
    OperationService ops = service(pools.fixed(1), null, 10, 5);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String id = ops.submit(OperationRequest.deleteImage("k" + i, "img")).id();
      await(ops, id);
      ids.add(id);
      Thread.sleep(5); // distinct finishing times
    }
    assertThat(ops.list()).hasSize(5);
    assertThat(ops.get(ids.get(0))).isEmpty();
    assertThat(ops.get(ids.get(7))).isPresent();
    try (Stream<Path> files = Files.list(dir.resolve("journal"))) {
      assertThat(files.filter(f -> f.toString().endsWith(".json"))).hasSize(5);
    }
  }
}
