package dev.warmstart.agent;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.hasItem;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.ProcessTarget;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The agent recovers at start, before any API call (G7): an operation it was running when it died
 * is settled on disk by then, an unreadable journal entry is quarantined, and readiness covers the
 * operation service, its journal and the store.
 */
@QuarkusTest
@TestProfile(StartupRecoveryTest.Profile.class)
@QuarkusTestResource(value = StartupRecoveryTest.Journal.class, restrictToAnnotatedClass = true)
class StartupRecoveryTest {
  static final Path JOURNAL = Path.of("target/agent-test/startup-journal");
  static final String ID = "interrupted-at-start";

  public static class Profile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("warmstart.agent.journal-dir", JOURNAL.toString());
    }
  }

  /** Writes, before the agent starts, what a crash leaves: a RUNNING checkpoint, a torn file. */
  public static class Journal implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
      try {
        if (Files.exists(JOURNAL)) {
          try (var s = Files.walk(JOURNAL)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
          }
        }
        OperationJournal journal = new OperationJournal(JOURNAL);
        journal.write(
            new OperationJournal.Entry(
                OperationRequest.checkpoint(
                    "k",
                    CheckpointRequest.builder(ProcessTarget.ofPid(Integer.MAX_VALUE - 1), "img", 60)
                        .build()),
                new OperationStatus(
                    ID,
                    "k",
                    OperationKind.CHECKPOINT,
                    OperationState.RUNNING,
                    "dump",
                    "2026-01-01T00:00:00Z",
                    null,
                    null,
                    null,
                    null,
                    null)));
        Files.writeString(JOURNAL.resolve("torn.json"), "{\"request\":");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return Map.of();
    }

    @Override
    public void stop() {}
  }

  @Test
  void theInterruptedOperationIsSettledOnDiskBeforeAnyCall() throws Exception {
    OperationJournal.Entry e =
        new ObjectMapper()
            .readValue(JOURNAL.resolve(ID + ".json").toFile(), OperationJournal.Entry.class);
    assertThat(e.status().state()).isEqualTo(OperationState.FAILED);
    assertThat(e.status().error().message()).contains("no image was kept");
    assertThat(Files.exists(JOURNAL.resolve("torn.json"))).isFalse();
    assertThat(Files.list(JOURNAL.resolve("quarantine")).count()).isEqualTo(1);
  }

  @Test
  void readinessCoversTheOperationService() {
    given()
        .get("/q/health/ready")
        .then()
        .statusCode(200)
        .body("checks.name", hasItem("operations"));
  }
}
