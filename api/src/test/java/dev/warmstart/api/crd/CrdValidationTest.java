package dev.warmstart.api.crd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sample custom resources against the committed CRDs: users' samples are accepted, every invalid
 * sample is rejected with the message its first line ({@code # expect: ...}) names.
 */
class CrdValidationTest {
  private static CrdValidator checkpoints;
  private static CrdValidator restores;
  private static CrdValidator pools;
  private static CrdValidator schedules;

  @BeforeAll
  static void loadCrds() throws IOException {
    checkpoints =
        CrdValidator.load(RepoPaths.crds().resolve("gpucheckpoints.warmstart.dev-v1.yaml"));
    restores = CrdValidator.load(RepoPaths.crds().resolve("gpurestores.warmstart.dev-v1.yaml"));
    pools = CrdValidator.load(RepoPaths.crds().resolve("gpustandbypools.warmstart.dev-v1.yaml"));
    schedules =
        CrdValidator.load(RepoPaths.crds().resolve("gpucheckpointschedules.warmstart.dev-v1.yaml"));
  }

  static Stream<Path> userSamples() throws IOException {
    return Files.list(RepoPaths.root().resolve("samples"))
        .filter(p -> p.toString().endsWith(".yaml"))
        .filter(p -> p.getFileName().toString().startsWith("gpu"))
        .sorted();
  }

  static Stream<Path> invalidSamples() throws IOException, URISyntaxException {
    Path dir = Path.of(CrdValidationTest.class.getResource("/invalid").toURI());
    return Files.list(dir).sorted();
  }

  private static CrdValidator validatorFor(JsonNode object) {
    return switch (object.path("kind").asText()) {
      case "GpuCheckpoint" -> checkpoints;
      case "GpuRestore" -> restores;
      case "GpuStandbyPool" -> pools;
      case "GpuCheckpointSchedule" -> schedules;
      default -> throw new IllegalArgumentException("unknown kind " + object.path("kind"));
    };
  }

  @ParameterizedTest
  @MethodSource("userSamples")
  void userSamplesAreAccepted(Path sample) throws IOException {
    JsonNode object = CrdValidator.readYaml(sample);
    assertThat(validatorFor(object).validateCreate(object)).isEmpty();
  }

  @ParameterizedTest
  @MethodSource("invalidSamples")
  void invalidSamplesAreRejectedWithTheirMessage(Path sample) throws IOException {
    String expected = expectation(sample);
    JsonNode object = CrdValidator.readYaml(sample);
    List<String> errors = validatorFor(object).validateCreate(object);
    assertThat(errors).as("errors for %s", sample.getFileName()).isNotEmpty();
    assertThat(errors).anySatisfy(e -> assertThat(e).contains(expected));
    String kind = object.path("kind").asText();
    assertThat(errors).allSatisfy(e -> assertThat(e).startsWith(kind + ".warmstart.dev \""));
  }

  @Test
  void checkpointSpecCannotChangeAfterCreation() throws IOException {
    JsonNode old = CrdValidator.readYaml(RepoPaths.root().resolve("samples/gpucheckpoint.yaml"));
    ObjectNode changed = old.deepCopy();
    ((ObjectNode) changed.get("spec")).put("podName", "other-pod");

    assertThat(checkpoints.validateUpdate(old, changed))
        .containsExactly(
            "GpuCheckpoint.warmstart.dev \"llm-server-warm\" is invalid: spec: Invalid value:"
                + " \"object\": spec is immutable: create a new GpuCheckpoint instead");
  }

  @Test
  void unchangedSpecAndStatusUpdatesAreAllowed() throws IOException {
    JsonNode old = CrdValidator.readYaml(RepoPaths.root().resolve("samples/gpucheckpoint.yaml"));
    ObjectNode withStatus = old.deepCopy();
    withStatus.putObject("status").put("phase", "Checkpointing").put("nodeName", "gpu-1");

    assertThat(checkpoints.validateUpdate(old, withStatus)).isEmpty();
  }

  @Test
  void restoreSpecCannotChangeAfterCreation() throws IOException {
    JsonNode old = CrdValidator.readYaml(RepoPaths.root().resolve("samples/gpurestore.yaml"));
    ObjectNode changed = old.deepCopy();
    ((ObjectNode) changed.get("spec")).put("nodeName", "gpu-node-2");

    assertThat(restores.validateUpdate(old, changed))
        .anySatisfy(e -> assertThat(e).contains("spec is immutable: create a new GpuRestore"));
  }

  @Test
  void statusIsValidatedToo() throws IOException {
    JsonNode old = CrdValidator.readYaml(RepoPaths.root().resolve("samples/gpurestore.yaml"));
    ObjectNode bad = old.deepCopy();
    bad.putObject("status").put("phase", "Exploded");

    assertThat(restores.validateUpdate(old, bad))
        .anySatisfy(
            e -> assertThat(e).contains("status.phase: does not have a value in the enumeration"));
  }

  @Test
  void scheduleTemplateMayChange() throws IOException {
    JsonNode old =
        CrdValidator.readYaml(RepoPaths.root().resolve("samples/gpucheckpointschedule.yaml"));
    ObjectNode changed = old.deepCopy();
    ObjectNode template = (ObjectNode) changed.at("/spec/checkpointTemplate");
    template.put("timeoutSeconds", 120);
    ((ObjectNode) changed.get("spec")).put("schedule", "@daily");

    assertThat(schedules.validateUpdate(old, changed)).isEmpty();
  }

  @Test
  void everyKindIsInTheWarmstartCategoryWithShortNames() throws IOException {
    for (String crd :
        List.of("gpucheckpoints", "gpurestores", "gpustandbypools", "gpucheckpointschedules")) {
      JsonNode names =
          CrdValidator.readYaml(RepoPaths.crds().resolve(crd + ".warmstart.dev-v1.yaml"))
              .at("/spec/names");
      assertThat(names.at("/categories").toString()).as(crd).isEqualTo("[\"warmstart\"]");
      assertThat(names.at("/shortNames").size()).as(crd).isPositive();
    }
  }

  private static String expectation(Path sample) {
    try {
      String first = Files.readAllLines(sample).get(0);
      assertThat(first).as("first line of %s", sample).startsWith("# expect: ");
      return first.substring("# expect: ".length());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
