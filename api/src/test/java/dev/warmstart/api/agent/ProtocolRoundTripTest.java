package dev.warmstart.api.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What one side writes, the other reads field for field, with the agent's strictness (a field the
 * version does not have is an error): the records write nothing but their fields.
 */
class ProtocolRoundTripTest {
  private static final ObjectMapper WRITER = new ObjectMapper();
  private static final ObjectMapper STRICT =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  @Test
  void everyOperationKindRoundTrips() throws Exception {
    HttpHook hook = new HttpHook(HttpMethod.GET, "/wake", 8000, 5);
    ImageTransfer claim = new ImageTransfer("cid", "/warmstart-store", "shared", "sha256:d");
    List<OperationRequest> requests =
        List.of(
            OperationRequest.checkpoint(
                "c",
                CheckpointRequest.builder(ProcessTarget.ofContainer("containerd://x"), "ml.ck", 60)
                    .leaveRunning(false)
                    .preCheckpointHook(hook)
                    .labels(Map.of("pod", "p"))
                    .replace(true)
                    .exportTo(claim)
                    .build()),
            OperationRequest.restore(
                "r",
                RestoreRequest.builder("ml.ck", 600)
                    .intoContainerId("cid")
                    .targetGpuUuids(List.of("GPU-a"))
                    .stage(RestoreStage.GPU_LOCKED)
                    .postRestoreHook(hook)
                    .sameGpu(true)
                    .importFrom(claim)
                    .expectedImageDigest("sha256:d")
                    .build()),
            OperationRequest.activate("a", new ActivateRequest("op-1", List.of("GPU-b"), 600)),
            OperationRequest.deleteImage("d", "ml.ck"));
    for (OperationRequest r : requests) {
      String json = WRITER.writeValueAsString(r);
      assertThat(STRICT.readValue(json, OperationRequest.class)).as(json).isEqualTo(r);
    }
  }

  @Test
  void aStatusWithItsImageRoundTrips() throws Exception {
    OperationStatus s =
        new OperationStatus(
            "op-1",
            "k",
            OperationKind.CHECKPOINT,
            OperationState.SUCCEEDED,
            null,
            "2026-11-30T00:00:00Z",
            "2026-11-30T00:00:05Z",
            Map.of("dump", 500L),
            new ImageSummary(
                "ml.ck",
                "gpu-1",
                "/var/lib/warmstart/images/ml.ck",
                1L << 20,
                "sha256:d",
                "2026-11-30T00:00:05Z",
                "4.2.1",
                new GpuInfo(
                    "NVIDIA H200",
                    List.of("GPU-a"),
                    "580.159.04",
                    1L << 30,
                    List.of(new GpuProcess(7, "RUNNING", 1L << 30, List.of("GPU-a"))),
                    null,
                    List.of("GPU-a"))),
            null,
            null);
    String json = WRITER.writeValueAsString(s);
    assertThat(STRICT.readValue(json, OperationStatus.class)).isEqualTo(s);
  }
}
