package dev.warmstart.agent.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The digest the operator recorded is enforced at restore (G6); CRIU never runs otherwise. */
class RestoreDigestTest {
  @TempDir Path dir;

  @Test
  void anImageWithAnotherDigestIsRefusedBeforeCriuRuns() throws Exception {
    AgentComponents agent =
        AgentComponents.create(
            AgentComponents.Settings.builder(
                    dir.resolve("store"), Path.of("/nonexistent/criu"), "n")
                .runcStateRoots(List.of())
                .build(),
            Clock.systemUTC());
    StoredImage image;
    try (ScratchDir staging = agent.store().stage("app")) {
      Files.writeString(staging.dir().resolve("core-1.img"), "core");
      image = agent.store().commit(staging, "app", false, m -> m);
    }
    RestoreCommand recordedElsewhere =
        RestoreCommand.of("app", Duration.ofSeconds(30))
            .expectedDigest("sha256:" + "0".repeat(64))
            .build();
    assertThatThrownBy(() -> agent.restores().restore(recordedElsewhere, Progress.NONE))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed))
        .hasMessageContaining("has digest " + image.digest())
        .hasMessageContaining("but the checkpoint recorded sha256:000");
  }
}
