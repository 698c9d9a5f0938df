package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The `warmstart` launcher at the repository root, as README's demo command runs it: the packaged
 * agent on the launcher's own classpath (tests run on Maven's, which would hide a missing jar).
 */
class LauncherIT {
  @TempDir Path store;

  private JsonNode run(String... args) throws Exception {
    TestEnv.criu(); // root and the project-local CRIU, as the launcher needs
    ProcessBuilder pb =
        new ProcessBuilder(
                java.util.stream.Stream.concat(
                        java.util.stream.Stream.of(TestEnv.repo().resolve("warmstart").toString()),
                        java.util.stream.Stream.of(args))
                    .toList())
            .redirectErrorStream(false);
    pb.environment().put("WARMSTART_STORE", store.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as("stderr: %s", err).isZero();
    return new ObjectMapper().readTree(out);
  }

  @Test
  void launcherRunsTheCliWithEverythingItLoads() throws Exception {
    JsonNode gpus = run("gpus", "--json");
    assertThat(gpus.has("available"))
        .as("the GPU report (loads the JNA bindings and logging)")
        .isTrue();
    JsonNode list = run("list", "--json");
    assertThat(list.get("images").isArray()).as("an empty store lists no images").isTrue();
    assertThat(list.get("images")).isEmpty();
    assertThat(list.at("/store/freeBytes").asLong()).as("the store's usage").isPositive();
  }
}
