package dev.warmstart.agent.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the agent reads the plugin's warmstart-cuda: a stand-in script answers as the tool does (its
 * JSON and exit codes, native-plugin/src/ctl.c); the real tool is tested with the fake driver in
 * native-plugin/test and GpuAgentIT, and with the real one on the H200
 * (bench/gpu-restore-owner.sh).
 */
class GpuActivatorTest {
  static final Duration T = Duration.ofSeconds(5);
  @TempDir Path dir;

  GpuActivator toolSaying(String script) throws IOException {
    Path tool = dir.resolve(FreshDriver.TOOL);
    Files.writeString(tool, "#!/bin/sh\necho \"$@\" >" + dir.resolve("args") + "\n" + script);
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwx------"));
    return new GpuActivator(new FreshDriver(Optional.of(dir), Map.of()));
  }

  static String answer(String processes, boolean ok) {
    return "echo '{\"processes\":[" + processes + "],\"ok\":" + ok + "}'\n";
  }

  static String proc(int pid, String initial, String state, String error) {
    return "{\"pid\":"
        + pid
        + ",\"initial\":\""
        + initial
        + "\",\"state\":\""
        + state
        + "\",\"restoreMs\":812.4,\"unlockMs\":1.6,\"error\":"
        + (error == null ? "null" : "\"" + error + "\"")
        + ",\"note\":\"\"}";
  }

  @Test
  void activationRestoresAndUnlocksThroughTheToolAndReportsTheSlowestProcess() throws Exception {
    GpuActivator a =
        toolSaying(
            answer(
                proc(10, "CHECKPOINTED", "RUNNING", null)
                    + ","
                    + proc(11, "RUNNING", "RUNNING", null),
                true));
    GpuActivator.Activation done =
        a.activate(List.of(10, 11), List.of(new GpuPair("GPU-a", "GPU-b")), T);
    assertThat(done.pids()).containsExactly(10);
    assertThat(done.timings()).containsEntry("gpuRestore", 812L).containsEntry("gpuUnlock", 2L);
    assertThat(Files.readString(dir.resolve("args")).trim())
        .isEqualTo("activate --remap GPU-a=GPU-b 10 11");
  }

  @Test
  void aHotStandbyIsRestoredLockedWithoutAnUnlockTiming() throws Exception {
    GpuActivator a = toolSaying(answer(proc(10, "CHECKPOINTED", "LOCKED", null), true));
    GpuActivator.Activation done = a.restoreLocked(List.of(10), List.of(), T);
    assertThat(done.timings())
        .containsKeys("gpuRestore", "gpuRestoreLocked")
        .doesNotContainKey("gpuUnlock");
    assertThat(Files.readString(dir.resolve("args")).trim()).isEqualTo("activate --keep-locked 10");
  }

  @Test
  void aTreeWithNothingCheckpointedIsABadRequestNamingWhatTheDriverSaid() throws Exception {
    GpuActivator a = toolSaying(answer(proc(10, "RUNNING", "RUNNING", null), true));
    assertThatThrownBy(() -> a.activate(List.of(10), List.of(), T))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.InvalidRequest))
        .hasMessageContaining("nothing to activate (the driver: 10: RUNNING)");
  }

  @Test
  void aFailedDriverCallIsAGpuRestoreFailureWithTheDriversWords() throws Exception {
    GpuActivator a =
        toolSaying(
            answer(
                    proc(
                        10,
                        "CHECKPOINTED",
                        "CHECKPOINTED",
                        "cuCheckpointProcessRestore: out of memory"),
                    false)
                + "exit 1\n");
    assertThatThrownBy(() -> a.activate(List.of(10), List.of(), T))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.GpuRestoreFailed))
        .hasMessageContaining("process 10: cuCheckpointProcessRestore: out of memory");
  }

  @Test
  void aToolThatHangsIsGivenUpOnAtTheTimeout() throws Exception {
    GpuActivator a = toolSaying("exec sleep 60\n");
    long t = System.nanoTime();
    assertThatThrownBy(() -> a.activate(List.of(10), List.of(), Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.Timeout))
        .hasMessageContaining("did not restore tree [10] within PT1S");
    assertThat(Duration.ofNanos(System.nanoTime() - t)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void anInterruptedActivationIsInterruptedNotAFailedGpuRestore() throws Exception {
    GpuActivator a = toolSaying("exec sleep 60\n");
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> a.activate(List.of(10), List.of(), T))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> assertThat(f.reason()).isEqualTo(ErrorReason.Interrupted));
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void withoutTheToolThereIsNoGpuRestoreHere() {
    GpuActivator a = new GpuActivator(new FreshDriver(Optional.of(dir), Map.of()));
    assertThatThrownBy(() -> a.activate(List.of(10), List.of(), T))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.IncompatibleGpu))
        .hasMessageContaining("warmstart-cuda is not installed");
  }
}
