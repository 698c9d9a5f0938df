package dev.warmstart.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The agent's core (checkpoint, restore, activation, operations, store, CRIU, GPU, /proc) is plain
 * Java: it names neither Quarkus, Vert.x, Micrometer, Kubernetes nor picocli, nor the service's
 * (root, api, auth, metrics) or the CLI's (cli) packages. This is what lets it move into a module
 * of its own (node-agent-core) with the service and the CLI on top; a change that ties the core to
 * either fails here first.
 */
class CoreLayeringTest {
  static final Path SOURCES = Path.of("src/main/java/dev/warmstart/agent");
  static final List<String> CORE =
      List.of(
          "activation",
          "checkpoint",
          "core",
          "criu",
          "cuda",
          "gpu",
          "gpumem",
          "hooks",
          "operation",
          "proc",
          "restore",
          "rootfs",
          "store",
          "transfer");
  static final Pattern FORBIDDEN =
      Pattern.compile(
          "\\b(io\\.quarkus|jakarta|org\\.eclipse\\.microprofile|io\\.smallrye|io\\.micrometer"
              + "|io\\.vertx|io\\.fabric8|picocli"
              + "|dev\\.warmstart\\.agent\\.(api|auth|metrics|cli)|dev\\.warmstart\\.agent\\.[A-Z])"
              + "[\\w.]*");

  @Test
  void theCorePackagesNameNothingOfTheServiceOrTheCli() throws IOException {
    List<String> found = new ArrayList<>();
    int files = 0;
    for (String pkg : CORE) {
      try (Stream<Path> s = Files.walk(SOURCES.resolve(pkg))) {
        for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
          files++;
          Matcher m = FORBIDDEN.matcher(Files.readString(f));
          while (m.find()) {
            found.add(SOURCES.relativize(f) + ": " + m.group());
          }
        }
      }
    }
    assertThat(files).as("core source files read").isGreaterThan(80);
    assertThat(found).isEmpty();
  }

  @Test
  void theCheckCatchesAServiceImport() {
    assertThat(FORBIDDEN.matcher("import io.quarkus.runtime.StartupEvent;").find()).isTrue();
    assertThat(FORBIDDEN.matcher("import dev.warmstart.agent.AgentConfig;").find()).isTrue();
    assertThat(FORBIDDEN.matcher("import dev.warmstart.agent.cli.Output;").find()).isTrue();
    assertThat(FORBIDDEN.matcher("import dev.warmstart.agent.store.ImageStore;").find()).isFalse();
  }
}
