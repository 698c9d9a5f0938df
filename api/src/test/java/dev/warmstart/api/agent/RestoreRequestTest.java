package dev.warmstart.api.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** How far a restore goes: one enum, its default, and its command-line spelling. */
class RestoreRequestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void anOmittedStageRunsEverything() throws Exception {
    RestoreRequest r =
        JSON.readValue("{\"imageName\":\"x\",\"timeoutSeconds\":60}", RestoreRequest.class);
    assertThat(r.stage()).isEqualTo(RestoreStage.RUNNING);
    assertThat(r.stage().standby()).isFalse();
    assertThat(RestoreRequest.builder("x", 60).build().stage()).isEqualTo(RestoreStage.RUNNING);
  }

  @Test
  void theStageTravelsByItsName() throws Exception {
    RestoreRequest hot = RestoreRequest.builder("x", 60).stage(RestoreStage.GPU_LOCKED).build();
    String json = JSON.writeValueAsString(hot);
    assertThat(json).contains("\"stage\":\"GPU_LOCKED\"");
    assertThat(JSON.readValue(json, RestoreRequest.class)).isEqualTo(hot);
    assertThat(hot.stage().standby()).isTrue();
  }

  @Test
  void theCommandLineSpellsEachStageOnce() {
    for (RestoreStage s : RestoreStage.values()) {
      assertThat(RestoreStage.ofCliName(s.cliName())).isEqualTo(s);
    }
    assertThat(RestoreStage.GPU_LOCKED.cliName()).isEqualTo("gpu-locked");
    assertThatThrownBy(() -> RestoreStage.ofCliName("hot"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown restore stage 'hot'; one of processes, gpu-locked, running");
  }

  @Test
  void aCheckpointBuilderKeepsTheDefaultsOfTheProtocol() {
    CheckpointRequest c = CheckpointRequest.builder(ProcessTarget.ofPid(7), "x", 60).build();
    assertThat(c.leaveRunning()).isTrue();
    assertThat(c.replace()).isFalse();
    assertThat(c.exportTo()).isNull();
    assertThat(
            CheckpointRequest.builder(ProcessTarget.ofPid(7), "x", 60)
                .leaveRunning(false)
                .build()
                .leaveRunning())
        .isFalse();
  }
}
