package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.activation.ActivateCommand;
import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.agent.RestoreStage;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent driving the GPU memory shim (gpu-shim/) around real CRIU. No GPU: the workload
 * (gpu-shim/test/gpumem_app.c) runs over the fake libcuda (native-plugin/test/fake_libcuda.c),
 * whose device memory is host memory, so "GPU memory" that the shim released is really gone from
 * the process and CRIU's image, and a read of it would fault.
 */
class GpuMemoryShimIT {
  private static final Duration T = Duration.ofMinutes(2);
  private static final long MIB = 1 << 20;
  private static final int[] MANAGED_MB = {48, 80};

  @TempDir Path dir;
  private AgentComponents agent;
  private Process app;
  private Path work;

  @BeforeEach
  void setUp() throws Exception {
    Path shim = TestEnv.repo().resolve("gpu-shim/build/libwarmstart_gpumem.so");
    assumeTrue(Files.exists(shim), "gpu-shim not built");
    agent = TestEnv.components(dir.resolve("store"));
    work = Files.createDirectories(dir.resolve("app"));
    ProcessBuilder pb =
        new ProcessBuilder(
                "setsid",
                TestEnv.repo().resolve("gpu-shim/build/gpumem_app").toString(),
                work.toString(),
                Integer.toString(MANAGED_MB[0]),
                Integer.toString(MANAGED_MB[1]))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("app.log").toFile());
    Map<String, String> env = pb.environment();
    env.put("LD_PRELOAD", shim.toString());
    env.put("LD_LIBRARY_PATH", TestEnv.repo().resolve("gpu-shim/build/fake").toString());
    env.put("WARMSTART_GPUMEM_DIR", dir.resolve("sock").toString());
    env.put("WARMSTART_GPUMEM_CHUNK_MB", "8");
    env.put("FAKE_CUDA_COPY_FAIL_FILE", dir.resolve("copy-fails").toString());
    env.put("FAKE_CUDA_STATE", dir.toString());
    app = pb.start();
    await(() -> Files.exists(work.resolve("ready")), "the workload to be ready");
  }

  @AfterEach
  void tearDown() {
    if (app != null) { // null when gpu-shim/ is not built: the test was skipped, not failed
      app.destroyForcibly();
    }
  }

  private int pid() {
    return (int) app.pid();
  }

  private String read(String name) throws IOException {
    Path f = work.resolve(name);
    return Files.exists(f) ? Files.readString(f).trim() : "";
  }

  private long ticks() throws IOException {
    String t = read("ticks");
    return t.isEmpty() ? 0 : Long.parseLong(t);
  }

  /** The workload's checksum of all its GPU memory, read through the driver now. */
  private String checksum() throws Exception {
    long n;
    try (var files = Files.list(work)) {
      n = files.filter(f -> f.getFileName().toString().matches("verify-[0-9]+")).count();
    }
    Files.createFile(work.resolve("verify-request"));
    Path answer = work.resolve("verify-" + (n + 1));
    await(() -> Files.exists(answer), "the workload's checksum");
    return Files.readString(answer).trim();
  }

  private void awaitTicking() throws Exception {
    long t = ticks();
    await(() -> ticks() > t + 3, "the workload's CUDA calls to go on");
  }

  private StoredImage checkpoint(boolean leaveRunning) throws OperationFailure {
    return agent
        .checkpoints()
        .checkpoint(
            CheckpointCommand.of(ProcessTarget.ofPid(pid()), "shim", T)
                .leaveRunning(leaveRunning)
                .build(),
            Progress.NONE);
  }

  @Test
  void theManagedMemoryLeavesThroughTheImageAndComesBackAtRestore() throws Exception {
    String before = read("ready");
    StoredImage image = checkpoint(false);

    Manifest m = image.manifest();
    String payload = "gpumem/" + pid() + "/";
    assertThat(m.files()).anySatisfy(f -> assertThat(f.path()).isEqualTo(payload + "gpumem.index"));
    long payloadBytes =
        m.files().stream()
            .filter(f -> f.path().startsWith(payload + "data-"))
            .mapToLong(Manifest.FileEntry::size)
            .sum();
    assertThat(payloadBytes).isEqualTo((MANAGED_MB[0] + MANAGED_MB[1]) * MIB);
    long pages =
        m.files().stream()
            .filter(f -> f.path().startsWith("pages-"))
            .mapToLong(Manifest.FileEntry::size)
            .sum();
    assertThat(pages).as("the managed memory is not in CRIU's pages").isLessThan(32 * MIB);
    assertThat(m.timings()).containsKeys("gpuMemoryCheckpoint", "dump");
    assertThat(m.gpu().managedMemoryBytes()).isEqualTo((MANAGED_MB[0] + MANAGED_MB[1]) * MIB);
    app.waitFor();
    Workload.awaitGone(pid());

    RestoreResult r = agent.restores().restore("shim", Optional.empty(), T, Progress.NONE);
    try {
      assertThat(r.pid()).isEqualTo(pid());
      assertThat(r.timings()).containsKey("gpuMemoryRestore");
      awaitTicking();
      assertThat(checksum()).as("every managed byte came back").isEqualTo(before);
    } finally {
      Workload.kill(r.pid());
    }
  }

  @Test
  void aWarmStandbyHoldsNoManagedMemoryUntilActivation() throws Exception {
    String before = read("ready");
    checkpoint(false);
    app.waitFor();
    Workload.awaitGone(pid());

    RestoreResult standby =
        agent
            .restores()
            .restore(
                RestoreCommand.of("shim", T).stage(RestoreStage.PROCESSES).build(), Progress.NONE);
    try {
      assertThat(standby.timings()).doesNotContainKey("gpuMemoryRestore");
      assertThat(fakeGpuMappings(standby.pid())).as("no GPU memory while standing by").isZero();
      long t = ticks();
      Thread.sleep(300);
      assertThat(ticks()).as("its CUDA calls wait at the shim's gate").isEqualTo(t);

      Map<String, Long> activation =
          agent.activations().activate(ActivateCommand.of(standby.pid(), "shim", T).build());
      assertThat(activation).containsKey("gpuMemoryRestore");
      assertThat(fakeGpuMappings(standby.pid())).isEqualTo(2);
      awaitTicking();
      assertThat(checksum()).isEqualTo(before);
    } finally {
      Workload.kill(standby.pid());
    }
  }

  @Test
  void anActivationWithoutThePayloadFailsAndTheStandbyNeverRuns() throws Exception {
    StoredImage image = checkpoint(false);
    app.waitFor();
    Workload.awaitGone(pid());
    RestoreResult standby =
        agent
            .restores()
            .restore(
                RestoreCommand.of("shim", T).stage(RestoreStage.PROCESSES).build(), Progress.NONE);
    try (var files = Files.walk(image.dir().resolve("gpumem"))) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    assertThatThrownBy(
            () ->
                agent.activations().activate(ActivateCommand.of(standby.pid(), "shim", T).build()))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed))
        .hasMessageContaining("the image has no payload for it");
    Workload.awaitGone(standby.pid());
    assertThat(ProcessHandle.of(standby.pid())).as("the standby is killed").isEmpty();
  }

  @Test
  void aPayloadIndexChangedAfterTheWarmRestoreIsRefusedAtActivation() throws Exception {
    StoredImage image = checkpoint(false);
    app.waitFor();
    Workload.awaitGone(pid());
    RestoreResult standby =
        agent
            .restores()
            .restore(
                RestoreCommand.of("shim", T).stage(RestoreStage.PROCESSES).build(), Progress.NONE);
    Path index;
    try (var files = Files.walk(image.dir().resolve("gpumem"))) {
      index = files.filter(p -> p.endsWith("gpumem.index")).findFirst().orElseThrow();
    }
    byte[] b = Files.readAllBytes(index);
    b[b.length / 2] ^= 1; // same size, other content
    Files.write(index, b);
    assertThatThrownBy(
            () ->
                agent
                    .activations()
                    .activate(
                        ActivateCommand.of(standby.pid(), "shim", T)
                            .imageDigest(standby.image().digest())
                            .build()))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed))
        .hasMessageContaining("cannot be trusted");
    Workload.awaitGone(standby.pid());
    assertThat(ProcessHandle.of(standby.pid())).as("the standby is killed").isEmpty();
  }

  /** The fake driver's "physical" GPU allocations mapped into the process. */
  private static long fakeGpuMappings(int pid) throws IOException {
    try (var lines = Files.lines(Path.of("/proc/" + pid + "/maps"))) {
      return lines.filter(l -> l.contains("fake-gpu-memory")).count();
    }
  }

  @Test
  void aLeaveRunningCheckpointPutsTheMemoryBack() throws Exception {
    String before = read("ready");
    StoredImage image = checkpoint(true);
    assertThat(image.manifest().timings()).containsKeys("gpuMemoryCheckpoint", "gpuMemoryResume");
    awaitTicking();
    assertThat(checksum()).isEqualTo(before);
  }

  @Test
  void aShimThatCannotCopyAbortsTheCheckpointAndTheWorkloadKeepsItsMemory() throws Exception {
    String before = read("ready");
    Files.createFile(dir.resolve("copy-fails"));
    assertThatThrownBy(() -> checkpoint(false))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.GpuMemoryShimFailed))
        .hasMessageContaining("did not checkpoint its memory (CopyFailed")
        .hasMessageContaining("keeps running with its memory");
    assertThat(agent.store().exists("shim")).isFalse();
    assertThat(app.isAlive()).isTrue();
    Files.delete(dir.resolve("copy-fails"));
    awaitTicking();
    assertThat(checksum()).isEqualTo(before);
  }

  @Test
  void aTamperedPayloadNeverRuns() throws Exception {
    StoredImage image = checkpoint(false);
    app.waitFor();
    Workload.awaitGone(pid());
    Path data = image.dir().resolve("gpumem/" + pid() + "/data-1.bin");
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      f.seek(3 * MIB + 5);
      int b = f.read();
      f.seek(3 * MIB + 5);
      f.write(b ^ 0x40);
    }
    assertThatThrownBy(() -> agent.restores().restore("shim", Optional.empty(), T, Progress.NONE))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed));
    Workload.awaitGone(pid());
    assertThat(ProcessHandle.of(pid())).as("no restored process is left").isEmpty();
  }

  private interface Check {
    boolean ok() throws Exception;
  }

  private static void await(Check c, String what) throws Exception {
    for (int i = 0; i < 6000; i++) { // a minute: this CPU machine is shared
      if (c.ok()) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("timed out waiting for " + what);
  }
}
