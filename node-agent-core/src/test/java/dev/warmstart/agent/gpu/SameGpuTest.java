package dev.warmstart.agent.gpu;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.api.agent.ErrorReason;
import java.util.List;
import org.junit.jupiter.api.Test;

/** gpuRemap: SameGpu refuses any restore that would remap a GPU UUID. */
class SameGpuTest {
  @Test
  void theCheckpointsOwnGpusPassAndAnyRemapIsRefusedNamingIt() {
    assertThatCode(() -> GpuCompatibility.requireSameGpus(List.of())).doesNotThrowAnyException();
    assertThatThrownBy(
            () -> GpuCompatibility.requireSameGpus(List.of(new GpuPair("GPU-aaa", "GPU-bbb"))))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f ->
                org.assertj.core.api.Assertions.assertThat(f.reason())
                    .isEqualTo(ErrorReason.IncompatibleGpu))
        .hasMessageContaining("GPU-aaa -> GPU-bbb")
        .hasMessageContaining("gpuRemap: Auto");
  }
}
