package dev.warmstart.agent.gpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.api.agent.ErrorReason;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The driver refuses a remap that leaves out a GPU it checkpointed ("invalid argument", H200 with
 * driver 580): every GPU the process held open is named, used or not.
 */
class CompleteMapTest {
  @Test
  void nothingMovesNoMap() throws OperationFailure {
    assertThat(
            GpuCompatibility.completeMap(
                List.of("A"), List.of("A"), List.of("B"), List.of("A", "B")))
        .isEmpty();
  }

  @Test
  void aProcessThatHadOnlyItsGpuOpenMapsThatOne() throws OperationFailure {
    assertThat(GpuCompatibility.completeMap(List.of("A"), List.of("B"), List.of(), List.of("B")))
        .containsExactly(new GpuPair("A", "B"));
  }

  @Test
  void anOpenUnusedGpuThatBecomesATargetIsSwappedOntoAFreeOne() throws OperationFailure {
    assertThat(
            GpuCompatibility.completeMap(
                List.of("A"), List.of("B"), List.of("B"), List.of("A", "B")))
        .containsExactly(new GpuPair("A", "B"), new GpuPair("B", "A"));
  }

  @Test
  void openUnusedGpusStayWhereTheyAreWhenFree() throws OperationFailure {
    assertThat(
            GpuCompatibility.completeMap(
                List.of("A"), List.of("C"), List.of("B", "C"), List.of("A", "B", "C")))
        .containsExactly(new GpuPair("A", "C"), new GpuPair("B", "B"), new GpuPair("C", "A"));
  }

  @Test
  void aTargetWithTooFewGpusForEveryOpenOneIsRefusedSayingWhy() {
    assertThatThrownBy(
            () ->
                GpuCompatibility.completeMap(
                    List.of("A"), List.of("B"), List.of("B"), List.of("B")))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.IncompatibleGpu))
        .hasMessageContaining("held B open")
        .hasMessageContaining("as many GPUs as the workload had");
  }

  @Test
  void sameGpuToleratesTheIdentityPairsOfACompleteMap() {
    org.assertj.core.api.Assertions.assertThatCode(
            () ->
                GpuCompatibility.requireSameGpus(
                    List.of(new GpuPair("A", "A"), new GpuPair("B", "B"))))
        .doesNotThrowAnyException();
  }
}
