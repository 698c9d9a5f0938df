package dev.warmstart.operator.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.agent.GpuInfo;
import dev.warmstart.api.agent.GpuProcess;
import dev.warmstart.api.agent.HttpMethod;
import dev.warmstart.api.agent.RestoreStage;
import dev.warmstart.api.v1alpha1.HttpHook;
import dev.warmstart.api.v1alpha1.StandbyMode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CRD's spelling maps onto the protocol's once, field for field. */
class ProtocolMappingTest {
  @Test
  void eachStandbyModeIsOneRestoreStage() {
    assertThat(ProtocolMapping.stage(StandbyMode.None)).isEqualTo(RestoreStage.RUNNING);
    assertThat(ProtocolMapping.stage(StandbyMode.Warm)).isEqualTo(RestoreStage.PROCESSES);
    assertThat(ProtocolMapping.stage(StandbyMode.Hot)).isEqualTo(RestoreStage.GPU_LOCKED);
    assertThat(ProtocolMapping.stage(StandbyMode.None).standby()).isFalse();
    assertThat(ProtocolMapping.stage(StandbyMode.Warm).standby()).isTrue();
    assertThat(ProtocolMapping.stage(StandbyMode.Hot).standby()).isTrue();
  }

  @Test
  void aHookKeepsEveryField() {
    var hook = ProtocolMapping.hook(new HttpHook(null, "/sleep?level=1", 8000, 12));
    assertThat(hook)
        .isEqualTo(
            new dev.warmstart.api.agent.HttpHook(HttpMethod.POST, "/sleep?level=1", 8000, 12));
    assertThat(
            ProtocolMapping.hook(
                    new HttpHook(dev.warmstart.api.v1alpha1.HttpMethod.GET, "/", 1, null))
                .method())
        .isEqualTo(HttpMethod.GET);
    assertThat(ProtocolMapping.hook(null)).isNull();
  }

  @Test
  void theAgentsGpuRecordKeepsEveryField() {
    GpuInfo agent =
        new GpuInfo(
            "NVIDIA H200",
            List.of("GPU-a"),
            "580.159.04",
            4L << 30,
            List.of(new GpuProcess(7, "RUNNING", 4L << 30, List.of("GPU-a"))),
            1L << 20,
            List.of("GPU-a", "GPU-b"));
    dev.warmstart.api.v1alpha1.GpuInfo crd = ProtocolMapping.gpu(agent);
    assertThat(crd)
        .isEqualTo(
            new dev.warmstart.api.v1alpha1.GpuInfo(
                "NVIDIA H200",
                List.of("GPU-a"),
                "580.159.04",
                4L << 30,
                List.of(
                    new dev.warmstart.api.v1alpha1.GpuProcess(
                        7, "RUNNING", 4L << 30, List.of("GPU-a"))),
                1L << 20,
                List.of("GPU-a", "GPU-b")));
    assertThat(ProtocolMapping.gpu(null)).isNull();
  }
}
