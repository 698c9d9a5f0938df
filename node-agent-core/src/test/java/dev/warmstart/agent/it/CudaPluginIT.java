package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent driving the real CUDA plugin inside real CRIU. No GPU here: the plugin's test double of
 * libcuda (native-plugin/test/fake_libcuda.c) plays the driver, and the workload has a thread named
 * like the driver's restore thread.
 */
class CudaPluginIT {
  private static final Duration T = Duration.ofMinutes(2);
  @TempDir Path dir;

  private AgentComponents agent(Map<String, String> fakeDriver) throws Exception {
    Path build = TestEnv.repo().resolve("native-plugin/build");
    assumeTrue(Files.exists(build.resolve("warmstart_cuda_plugin.so")), "native plugin not built");
    Files.createDirectories(dir.resolve("cuda-state"));
    Map<String, String> env = new java.util.HashMap<>(fakeDriver);
    env.put("WARMSTART_LIBCUDA", build.resolve("fake/libcuda.so.1").toString());
    env.put("FAKE_CUDA_STATE", dir.resolve("cuda-state").toString());
    return AgentComponents.create(
        AgentComponents.Settings.builder(dir.resolve("store"), TestEnv.criu(), "n1")
            .pluginDir(Optional.of(build))
            .criuEnvironment(env)
            .build(),
        Clock.systemUTC());
  }

  private Process cudaApp() throws Exception {
    Path work = Files.createDirectories(dir.resolve("app"));
    Process p =
        new ProcessBuilder(
                "setsid",
                TestEnv.repo().resolve("native-plugin/build/fake_cuda_app").toString(),
                work.toString(),
                "2")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("app.log").toFile())
            .start();
    for (int i = 0; i < 200 && Files.list(work).count() < 2; i++) {
      Thread.sleep(20);
    }
    return p;
  }

  private String cudaState(long pid) throws Exception {
    Path f = dir.resolve("cuda-state").resolve(Long.toString(pid));
    return Files.exists(f) ? Files.readString(f).trim() : "0";
  }

  @Test
  void gpuPhasesAreTimedAndTheTreeComesBackRunning() throws Exception {
    AgentComponents agent = agent(Map.of());
    Process app = cudaApp();
    try {
      StoredImage image =
          agent
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofPid((int) app.pid()), "cuda", T).build(),
                  Progress.NONE);
      assertThat(image.manifest().timings()).containsKeys("cudaInit", "gpuLock", "gpuCheckpoint");
      assertThat(image.manifest().files())
          .anySatisfy(f -> assertThat(f.path()).isEqualTo("warmstart-cuda-dump.json"));
      assertThat(cudaState(app.pid())).isEqualTo("2");
      app.waitFor();
      for (int p : image.manifest().source().processes()) {
        Workload.awaitGone(p); // the dumped child is reaped by init, slowly here
      }

      RestoreResult r = agent.restores().restore("cuda", Optional.empty(), T, Progress.NONE);
      try {
        assertThat(r.timings()).containsKeys("cudaInit", "gpuRestore", "gpuUnlock");
        assertThat(cudaState(r.pid())).as("restored and unlocked").isEqualTo("0");
        assertThat(agent.store().open("cuda").digest())
            .as("report kept out of the image")
            .isEqualTo(image.digest());
      } finally {
        Workload.kill(r.pid());
      }
    } finally {
      app.destroyForcibly();
    }
  }

  @Test
  void gpuRestoreFailureFailsTheOperationAndLeavesNoBrokenProcess() throws Exception {
    Process app = cudaApp();
    int pid = (int) app.pid();
    try {
      StoredImage image =
          agent(Map.of())
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofPid(pid), "cuda", T).build(), Progress.NONE);
      app.waitFor();
      for (int p : image.manifest().source().processes()) {
        Workload.awaitGone(p);
      }

      AgentComponents failing = agent(Map.of("FAKE_CUDA_FAIL", "restore:" + pid));
      assertThatThrownBy(
              () -> failing.restores().restore("cuda", Optional.empty(), T, Progress.NONE))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> assertThat(f.reason()).isEqualTo(ErrorReason.GpuRestoreFailed))
          .hasMessageContaining(
              "restore of pid " + pid + " failed: error 999: fake: injected failure");
      Workload.awaitGone(pid);
      assertThat(ProcessHandle.of(pid)).as("the half-restored tree is killed").isEmpty();
    } finally {
      app.destroyForcibly();
    }
  }
}
