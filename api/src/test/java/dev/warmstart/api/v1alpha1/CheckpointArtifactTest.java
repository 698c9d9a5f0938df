package dev.warmstart.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The artifact's fields are the truth; its location is only their display. */
class CheckpointArtifactTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void aNodeLocalArtifactShowsItsNodeAndDirectory() {
    CheckpointArtifact a =
        CheckpointArtifact.builder("gpu-1", "ml.ck").path("/var/lib/warmstart/ml.ck").build();
    assertThat(a.storage()).isEqualTo(CheckpointStorage.nodeLocal());
    assertThat(a.onClaim()).isFalse();
    assertThat(a.location()).isEqualTo("hostpath://gpu-1/var/lib/warmstart/ml.ck");
  }

  @Test
  void anArtifactOnAClaimShowsTheClaim() {
    CheckpointArtifact a =
        CheckpointArtifact.builder("gpu-1", "ml.ck")
            .storage(
                new CheckpointStorage(null, new PersistentVolumeClaimStorage("images", "shared")))
            .path("/var/lib/warmstart/ml.ck")
            .build();
    assertThat(a.onClaim()).isTrue();
    assertThat(a.location()).isEqualTo("pvc://images/shared/ml.ck");
  }

  @Test
  void aWrittenLocationIsNeverReadBack() throws Exception {
    CheckpointArtifact a =
        JSON.readValue(
            "{\"node\":\"gpu-2\",\"imageName\":\"ml.ck\",\"path\":\"/s/ml.ck\","
                + "\"location\":\"hostpath://elsewhere/x\"}",
            CheckpointArtifact.class);
    assertThat(a.node()).isEqualTo("gpu-2");
    assertThat(a.location()).isEqualTo("hostpath://gpu-2/s/ml.ck");
  }
}
