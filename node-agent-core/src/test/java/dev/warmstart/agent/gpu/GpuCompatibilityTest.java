package dev.warmstart.agent.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.GpuInfo;
import dev.warmstart.api.agent.GpuProcess;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * Whether an image's GPU state can come back on a node's GPUs, and onto which: decided from the
 * node's GPUs as a list. The GPUs here are a fake ({@link NodeGpus} from a list): no driver is
 * needed to decide, only to restore (GpuAgentIT and the H200 runs cover that).
 */
class GpuCompatibilityTest {
  static final String H100 = "NVIDIA H100 80GB HBM3";
  static final String A100 = "NVIDIA A100-SXM4-40GB";
  static final long GIB = 1L << 30;

  /** GPUs from a list; free memory per UUID, none given: not measurable (no NVML). */
  record ListedGpus(List<CudaDevice> devices, String driverVersion, Map<String, Long> free)
      implements NodeGpus {
    @Override
    public boolean available() {
      return !devices.isEmpty();
    }

    @Override
    public String unavailableReason() {
      return devices.isEmpty() ? "no CUDA driver on this node" : null;
    }

    @Override
    public OptionalLong freeMemory(String uuid) {
      return free.containsKey(uuid) ? OptionalLong.of(free.get(uuid)) : OptionalLong.empty();
    }
  }

  static CudaDevice gpu(int ordinal, String uuid, String model) {
    return new CudaDevice(ordinal, uuid, model, 80 * GIB);
  }

  static GpuInfo image(String model, String driver, long perProcessBytes, String... uuids) {
    return new GpuInfo(
        model,
        List.of(uuids),
        driver,
        perProcessBytes,
        List.of(new GpuProcess(7, "RUNNING", perProcessBytes, List.of(uuids))));
  }

  static GpuCompatibility node(String driver, Map<String, Long> free, CudaDevice... gpus) {
    return new GpuCompatibility(new ListedGpus(List.of(gpus), driver, free));
  }

  static void refused(OperationFailure f, String... parts) {
    assertThat(f.reason()).isEqualTo(ErrorReason.IncompatibleGpu);
    assertThat(f.getMessage()).contains(parts);
  }

  @Test
  void anImageWithoutCudaStateNeedsNoGpu() throws Exception {
    GpuCompatibility none = node(null, Map.of());
    assertThat(none.check(null, List.of())).isEmpty();
    assertThat(none.check(new GpuInfo(H100, List.of("GPU-a"), null, 0L, List.of()), List.of()))
        .isEmpty();
  }

  @Test
  void cudaStateOnANodeWithoutGpusIsRefusedWithTheNodesReason() {
    assertThatThrownBy(() -> node(null, Map.of()).check(image(H100, null, GIB, "GPU-a"), null))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> refused(f, "no usable GPU", "no CUDA driver"));
  }

  @Test
  void theCheckpointsOwnGpusNeedNoRemap() throws Exception {
    GpuCompatibility n = node("580.1", Map.of(), gpu(0, "GPU-a", H100), gpu(1, "GPU-b", H100));
    assertThat(n.check(image(H100, "580.1", GIB, "GPU-b"), List.of())).isEmpty();
  }

  @Test
  void elsewhereGpusOfTheSameModelAreChosenInOrderAndRemapped() throws Exception {
    GpuCompatibility n =
        node(null, Map.of(), gpu(0, "GPU-x", A100), gpu(1, "GPU-y", H100), gpu(2, "GPU-z", H100));
    List<GpuPair> pairs = n.check(image(H100, null, GIB, "GPU-a", "GPU-b"), List.of());
    assertThat(pairs).containsExactly(new GpuPair("GPU-a", "GPU-y"), new GpuPair("GPU-b", "GPU-z"));
  }

  @Test
  void requestedGpusAreUsedAndMustBeEnoughOnThisNodeAndOfTheModel() throws Exception {
    GpuCompatibility n = node(null, Map.of(), gpu(0, "GPU-x", A100), gpu(1, "GPU-y", H100));
    assertThat(n.check(image(H100, null, GIB, "GPU-a"), List.of("GPU-y")))
        .containsExactly(new GpuPair("GPU-a", "GPU-y"));
    assertThatThrownBy(() -> n.check(image(H100, null, GIB, "GPU-a", "GPU-b"), List.of("GPU-y")))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> refused(f, "used 2 GPU(s)", "target has 1"));
    assertThatThrownBy(() -> n.check(image(H100, null, GIB, "GPU-a"), List.of("GPU-q")))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> refused(f, "GPU GPU-q is not on this node"));
    assertThatThrownBy(() -> n.check(image(H100, null, GIB, "GPU-a"), List.of("GPU-x")))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> refused(f, "taken on " + H100, "GPU-x is " + A100));
  }

  @Test
  void tooFewGpusOfTheModelAreRefusedNamingWhatTheNodeHas() {
    GpuCompatibility n = node(null, Map.of(), gpu(0, "GPU-x", A100));
    assertThatThrownBy(() -> n.check(image(H100, null, GIB, "GPU-a"), List.of()))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> refused(f, "needs 1 " + H100, "this node has " + A100));
  }

  @Test
  void anOlderDriverIsRefusedANewerOneIsNot() throws Exception {
    GpuInfo taken = image(H100, "580.95.05", GIB, "GPU-a");
    assertThatThrownBy(() -> node("580.82.07", Map.of(), gpu(0, "GPU-a", H100)).check(taken, null))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> refused(f, "580.82.07 is older than", "580.95.05"));
    assertThat(node("580.159.04", Map.of(), gpu(0, "GPU-a", H100)).check(taken, null)).isEmpty();
  }

  @Test
  void tooLittleFreeMemoryIsRefusedAndUnmeasurableMemoryIsLeftToTheDriver() throws Exception {
    GpuInfo taken = image(H100, null, 10 * GIB, "GPU-a");
    assertThatThrownBy(
            () -> node(null, Map.of("GPU-a", 4 * GIB), gpu(0, "GPU-a", H100)).check(taken, null))
        .isInstanceOfSatisfying(
            OperationFailure.class, f -> refused(f, "has 4096 MiB free", "needs 10240 MiB"));
    assertThat(node(null, Map.of("GPU-a", 12 * GIB), gpu(0, "GPU-a", H100)).check(taken, null))
        .isEmpty();
    assertThat(node(null, Map.of(), gpu(0, "GPU-a", H100)).check(taken, null)).isEmpty();
  }
}
