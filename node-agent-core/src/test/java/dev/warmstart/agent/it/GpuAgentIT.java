package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.activation.ActivateCommand;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.GpuSettings;
import dev.warmstart.agent.gpu.WarmContextPool;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.GpuInfo;
import dev.warmstart.api.agent.GpuProcess;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.agent.RestoreStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's GPU side end to end with real CRIU and the real plugin, on CI machines without a GPU:
 * the plugin's test doubles of libcuda and NVML (native-plugin/test/fake_*.c) play the driver for
 * both CRIU's plugin and the agent's JNA bindings, sharing per-pid state files. Two fake GPUs.
 */
class GpuAgentIT {
  private static final Duration T = Duration.ofMinutes(2);
  private static final String GPU0 = "GPU-00010203-0405-0607-0809-0a0b0c0d0e0f";
  private static final String GPU1 = "GPU-10111213-1415-1617-1819-1a1b1c1d1e1f";
  @TempDir Path dir;
  private Path fake;
  private GpuRuntime gpus;
  private AgentComponents agent;
  private Process app;

  @BeforeEach
  void setUp() throws Exception {
    Path build = TestEnv.repo().resolve("native-plugin/build");
    assumeTrue(Files.exists(build.resolve("fake/libnvidia-ml.so.1")), "native plugin not built");
    fake = build.resolve("fake");
    Path state = Files.createDirectories(dir.resolve("cuda-state"));
    Map<String, String> env = new HashMap<>();
    env.put("FAKE_CUDA_STATE", state.toString());
    env.put("FAKE_CUDA_DEVICES", "2");
    env.put("FAKE_CUDA_LOG", dir.resolve("cuda.log").toString());
    env.put("FAKE_NVML_PROCS", "");
    env.put("FAKE_CUDA_ODD_DEVICE", "-1");
    env.forEach(NativeEnv::set); // for the agent's own driver calls, in this JVM
    env.put("WARMSTART_LIBCUDA", fake.resolve("libcuda.so.1").toString());
    gpus = GpuRuntime.detect(settings(true, List.of()));
    agent =
        AgentComponents.create(
            AgentComponents.Settings.builder(dir.resolve("store"), TestEnv.criu(), "n1")
                .pluginDir(Optional.of(build))
                .criuEnvironment(env)
                .build(),
            Clock.systemUTC(),
            gpus);
  }

  @AfterEach
  void tearDown() {
    if (app != null) {
      app.descendants().forEach(ProcessHandle::destroyForcibly);
      app.destroyForcibly();
    }
  }

  private GpuSettings settings(boolean pool, List<String> devices) {
    return new GpuSettings(
        true,
        Optional.of(fake.resolve("libcuda.so.1").toString()),
        Optional.of(fake.resolve("libnvidia-ml.so.1").toString()),
        pool,
        devices);
  }

  private List<Integer> startApp(Map<String, String> extraEnv) throws Exception {
    Path work = Files.createDirectories(dir.resolve("app"));
    ProcessBuilder pb =
        new ProcessBuilder(
                "setsid",
                fake.getParent().resolve("fake_cuda_app").toString(),
                work.toString(),
                "2")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("app.log").toFile());
    pb.environment().putAll(extraEnv);
    app = pb.start();
    for (int i = 0; i < 200 && Files.list(work).count() < 2; i++) {
      Thread.sleep(20);
    }
    List<Integer> pids = new java.util.ArrayList<>();
    pids.add((int) app.pid());
    app.children().forEach(c -> pids.add((int) c.pid()));
    return pids;
  }

  private String cudaState(long pid) throws Exception {
    Path f = dir.resolve("cuda-state").resolve(Long.toString(pid));
    return Files.exists(f) ? Files.readString(f).trim() : "0";
  }

  private List<String> driverCalls(String fn) throws Exception {
    Path log = dir.resolve("cuda.log");
    if (!Files.exists(log)) {
      return List.of();
    }
    return Files.readAllLines(log).stream().filter(l -> l.startsWith(fn + " ")).toList();
  }

  private StoredImage checkpointAndStop(List<Integer> pids) throws Exception {
    StoredImage image =
        agent
            .checkpoints()
            .checkpoint(
                CheckpointCommand.of(ProcessTarget.ofPid(pids.get(0)), "gpu", T).build(),
                Progress.NONE);
    app.waitFor();
    for (int p : image.manifest().source().processes()) {
      Workload.awaitGone(p);
    }
    return image;
  }

  @Test
  void inventoryListsTheDriversGpusWithUuidsAndNames() {
    assertThat(gpus.available()).isTrue();
    assertThat(gpus.driverVersion()).isEqualTo("580.159.04");
    assertThat(gpus.devices())
        .extracting(CudaDevice::uuid, CudaDevice::name)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(GPU0, "Fake GPU"),
            org.assertj.core.groups.Tuple.tuple(GPU1, "Fake GPU"));

    GpuRuntime none =
        GpuRuntime.detect(
            new GpuSettings(
                true, Optional.of("/nonexistent/libcuda.so.1"), Optional.empty(), true, List.of()));
    assertThat(none.available()).isFalse();
    assertThat(none.unavailableReason()).startsWith("no CUDA driver on this node");
    assertThat(GpuRuntime.detect(GpuSettings.disabled()).unavailableReason())
        .contains("turned off");
  }

  @Test
  void aContainersVisibleGpusAreReadFromItsInitsEnvironment() throws Exception {
    Process p = new ProcessBuilder("sleep", "30").redirectErrorStream(true).start();
    Process q = null;
    try {
      var visible = new dev.warmstart.agent.gpu.VisibleGpus();
      assertThat(visible.of((int) p.pid(), gpus)).as("no NVIDIA_VISIBLE_DEVICES").isEmpty();
      ProcessBuilder pb = new ProcessBuilder("sleep", "30");
      pb.environment().put("NVIDIA_VISIBLE_DEVICES", "1");
      q = pb.start();
      assertThat(visible.of((int) q.pid(), gpus)).containsExactly(GPU1);
    } finally {
      p.destroyForcibly();
      if (q != null) {
        q.destroyForcibly();
      }
    }
  }

  @Test
  void warmPoolHoldsAContextOnEachSelectedGpuUntilClosed() throws Exception {
    try (WarmContextPool pool = WarmContextPool.start(gpus, settings(true, List.of(GPU1)))) {
      assertThat(pool.contexts())
          .singleElement()
          .satisfies(c -> assertThat(c.uuid()).isEqualTo(GPU1))
          .satisfies(c -> assertThat(c.held()).isTrue());
      assertThat(driverCalls("primaryCtxRetain"))
          .singleElement()
          .asString()
          .startsWith("primaryCtxRetain 1 ");
      assertThat(driverCalls("primaryCtxRelease")).isEmpty();
    }
    assertThat(driverCalls("primaryCtxRelease"))
        .singleElement()
        .asString()
        .startsWith("primaryCtxRelease 1 ");
    try (WarmContextPool off = WarmContextPool.start(gpus, settings(false, List.of()))) {
      assertThat(off.contexts()).isEmpty();
    }
  }

  @Test
  void checkpointRecordsGpuUseThenPrepareAndActivateRestoreInTwoSteps() throws Exception {
    List<Integer> pids = startApp(Map.of());
    NativeEnv.set(
        "FAKE_NVML_PROCS", "0:" + pids.get(0) + ":1073741824,0:" + pids.get(1) + ":536870912");
    StoredImage image = checkpointAndStop(pids);
    NativeEnv.set("FAKE_NVML_PROCS", "");

    GpuInfo gpu = image.manifest().gpu();
    assertThat(gpu.model()).isEqualTo("Fake GPU");
    assertThat(gpu.uuids()).containsExactly(GPU0);
    assertThat(gpu.driverVersion()).isEqualTo("580.159.04");
    assertThat(gpu.memoryBytes()).isEqualTo(1610612736L);
    assertThat(gpu.processes())
        .extracting(GpuProcess::pid)
        .containsExactlyInAnyOrderElementsOf(pids);
    assertThat(gpu.processes()).allSatisfy(p -> assertThat(p.cudaState()).isEqualTo("RUNNING"));

    RestoreResult prepared =
        agent
            .restores()
            .restore(
                RestoreCommand.of("gpu", T).stage(RestoreStage.PROCESSES).build(), Progress.NONE);
    try {
      assertThat(prepared.prepared()).isTrue();
      for (int p : pids) {
        assertThat(cudaState(p)).as("pid %d still checkpointed after prepare", p).isEqualTo("2");
      }
      assertThat(driverCalls("restore")).as("no driver restore yet").isEmpty();

      Map<String, Long> timings =
          agent.activations().activate(ActivateCommand.of(prepared.pid(), "gpu", T).build());
      assertThat(timings).containsKeys("gpuCheck", "gpuRestore", "gpuUnlock", "total");
      for (int p : pids) {
        assertThat(cudaState(p)).as("pid %d running after activate", p).isEqualTo("0");
      }
      assertThat(driverCalls("restore"))
          .extracting(l -> l.split(" ")[1])
          .containsExactlyInAnyOrderElementsOf(
              pids.stream().map(String::valueOf).collect(Collectors.toList()));
      assertThatThrownBy(
              () ->
                  agent
                      .activations()
                      .activate(ActivateCommand.of(prepared.pid(), "gpu", T).build()))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> assertThat(f.reason()).isEqualTo(ErrorReason.InvalidRequest))
          .hasMessageContaining("nothing to activate");
    } finally {
      Workload.kill(prepared.pid());
    }
  }

  @Test
  void activationIsTheToolsInAFreshProcessSoTheAgentsStaleDriverStateCannotMislead()
      throws Exception {
    List<Integer> pids = startApp(Map.of());
    checkpointAndStop(pids);
    RestoreResult prepared =
        agent
            .restores()
            .restore(
                RestoreCommand.of("gpu", T).stage(RestoreStage.PROCESSES).build(), Progress.NONE);
    // The agent's own driver state goes stale for reused PIDs (seen on an H200); the tool's cannot.
    NativeEnv.set("FAKE_CUDA_STALE", "1");
    try {
      Map<String, Long> timings =
          agent.activations().activate(ActivateCommand.of(prepared.pid(), "gpu", T).build());
      assertThat(timings).containsKeys("gpuRestore", "gpuUnlock", "activate");
      for (int p : pids) {
        assertThat(cudaState(p)).as("pid %d running after activate", p).isEqualTo("0");
      }
      assertThatThrownBy(
              () ->
                  agent
                      .activations()
                      .activate(ActivateCommand.of(prepared.pid(), "gpu", T).build()))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> assertThat(f.reason()).isEqualTo(ErrorReason.InvalidRequest))
          .as("the driver's answer is in the message")
          .hasMessageContaining("nothing to activate (the driver: " + pids.get(0) + ": RUNNING");
    } finally {
      NativeEnv.unset("FAKE_CUDA_STALE");
      Workload.kill(prepared.pid());
    }
  }

  @Test
  void hotStandbyHoldsItsGpuMemoryLockedAndActivationOnlyUnlocks() throws Exception {
    List<Integer> pids = startApp(Map.of());
    checkpointAndStop(pids);
    RestoreResult hot =
        agent
            .restores()
            .restore(
                RestoreCommand.of("gpu", T).stage(RestoreStage.GPU_LOCKED).build(), Progress.NONE);
    try {
      assertThat(hot.timings()).containsKeys("gpuRestore", "gpuRestoreLocked");
      for (int p : pids) {
        assertThat(cudaState(p)).as("pid %d restored but locked", p).isEqualTo("1");
      }
      int restoresBefore = driverCalls("restore").size();
      Map<String, Long> timings =
          agent.activations().activate(ActivateCommand.of(hot.pid(), "gpu", T).build());
      assertThat(timings).containsKey("gpuUnlock");
      assertThat(driverCalls("restore")).as("no second GPU copy").hasSize(restoresBefore);
      for (int p : pids) {
        assertThat(cudaState(p)).isEqualTo("0");
      }
    } finally {
      Workload.kill(hot.pid());
    }
  }

  @Test
  void restoreOntoAnotherGpuRemapsAndRefusesTargetsThatDoNotFit() throws Exception {
    List<Integer> pids = startApp(Map.of());
    NativeEnv.set("FAKE_NVML_PROCS", "0:" + pids.get(0) + ":2147483648");
    checkpointAndStop(pids);
    // Another workload fills GPU 1 but for 1 GiB.
    NativeEnv.set("FAKE_NVML_PROCS", "1:999999:" + ((80L << 30) - (1L << 30) - (512L << 20)));

    assertRefused(List.of("GPU-ffffffff-ffff-ffff-ffff-ffffffffffff"), "is not on this node");
    assertRefused(List.of(GPU1), "MiB free; the checkpoint needs 2048 MiB");
    NativeEnv.set("FAKE_CUDA_ODD_DEVICE", "1");
    GpuRuntime mixed = GpuRuntime.detect(settings(false, List.of()));
    assertThatThrownBy(
            () ->
                new dev.warmstart.agent.gpu.GpuCompatibility(mixed)
                    .check(agent.store().open("gpu").manifest().gpu(), List.of(GPU1)))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.IncompatibleGpu))
        .hasMessageContaining("was taken on Fake GPU but GPU " + GPU1 + " is Other Fake GPU");
    NativeEnv.set("FAKE_CUDA_ODD_DEVICE", "-1");
    assertThat(agent.store().open("gpu")).as("image untouched by refusals").isNotNull();

    NativeEnv.set("FAKE_NVML_PROCS", "");
    RestoreResult r =
        agent
            .restores()
            .restore(RestoreCommand.of("gpu", T).targetGpus(List.of(GPU1)).build(), Progress.NONE);
    try {
      assertThat(driverCalls("restore"))
          .as("the plugin passed the new GPU's UUID to the driver")
          .allSatisfy(l -> assertThat(l).contains("pairs=1:101112131415161718191a1b1c1d1e1f"));
      assertThat(cudaState(r.pid())).isEqualTo("0");
    } finally {
      Workload.kill(r.pid());
    }
  }

  private void assertRefused(List<String> targets, String message) {
    assertThatThrownBy(
            () ->
                agent
                    .restores()
                    .restore(
                        RestoreCommand.of("gpu", T).targetGpus(targets).build(), Progress.NONE))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.IncompatibleGpu))
        .hasMessageContaining(message);
  }

  @Test
  void lockedProcessesAndMpsClientsAreRefusedBeforeAnythingIsFrozen() throws Exception {
    List<Integer> pids = startApp(Map.of());
    Files.writeString(dir.resolve("cuda-state").resolve(pids.get(1).toString()), "1");
    assertThatThrownBy(
            () ->
                agent
                    .checkpoints()
                    .checkpoint(
                        CheckpointCommand.of(ProcessTarget.ofPid(pids.get(0)), "gpu", T)
                            .leaveRunning(true)
                            .build(),
                        Progress.NONE))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.UnsupportedWorkload))
        .hasMessageContaining("is in CUDA state LOCKED");
    assertThat(driverCalls("lock")).as("nothing was locked").isEmpty();
    assertThat(agent.store().list()).isEmpty();
    tearDown();

    Path pipes = Files.createDirectories(dir.resolve("mps"));
    new ProcessBuilder("mkfifo", pipes.resolve("control").toString()).start().waitFor();
    List<Integer> mps = startApp(Map.of("CUDA_MPS_PIPE_DIRECTORY", pipes.toString()));
    assertThatThrownBy(
            () ->
                agent
                    .checkpoints()
                    .checkpoint(
                        CheckpointCommand.of(ProcessTarget.ofPid(mps.get(0)), "gpu", T)
                            .leaveRunning(true)
                            .build(),
                        Progress.NONE))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.UnsupportedWorkload))
        .hasMessageContaining("is an MPS client");
    assertThat(ProcessHandle.of(mps.get(0))).as("still running").isPresent();
  }
}
