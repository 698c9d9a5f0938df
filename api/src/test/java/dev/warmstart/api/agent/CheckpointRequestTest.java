package dev.warmstart.api.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The agent protocol's defaults match the CRD's: a request that says nothing stops nothing. */
class CheckpointRequestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void anOmittedLeaveRunningMeansTrueAsInTheCrd() throws Exception {
    CheckpointRequest r =
        JSON.readValue(
            "{\"target\":{\"pid\":42},\"imageName\":\"x\",\"timeoutSeconds\":60}",
            CheckpointRequest.class);
    assertThat(r.leaveRunning()).isTrue();
    assertThat(r.replace()).isFalse();
    assertThat(
            JSON.readValue("{\"imageName\":\"x\",\"leaveRunning\":false}", CheckpointRequest.class)
                .leaveRunning())
        .isFalse();
  }
}
