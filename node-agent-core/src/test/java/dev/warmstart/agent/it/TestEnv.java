package dev.warmstart.agent.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.core.AgentComponents;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

/** Real CRIU from scripts/install-criu.sh; the tests need root, as CRIU does. */
final class TestEnv {
  private TestEnv() {}

  static Path repo() {
    return Path.of(System.getProperty("warmstart.repo.root", "..")).toAbsolutePath().normalize();
  }

  static Path criu() {
    Path criu = repo().resolve(".local/criu/bin/criu");
    assumeTrue(Files.isExecutable(criu), "CRIU not installed: run scripts/install-criu.sh");
    assumeTrue("root".equals(System.getProperty("user.name")), "real CRIU tests need root");
    return criu;
  }

  static AgentComponents components(Path store) throws IOException {
    return AgentComponents.create(
        AgentComponents.Settings.builder(store, criu(), "test-node").build(), Clock.systemUTC());
  }

  /**
   * Components that load our CRIU plugin (native-plugin/build), as the agent does in production.
   */
  static AgentComponents componentsWithPlugin(Path store) throws IOException {
    Path plugin = repo().resolve("native-plugin/build");
    assumeTrue(Files.exists(plugin.resolve("warmstart_cuda_plugin.so")), "native plugin not built");
    return AgentComponents.create(
        AgentComponents.Settings.builder(store, criu(), "test-node")
            .pluginDir(Optional.of(plugin))
            .build(),
        Clock.systemUTC());
  }

  static Path workload(String name) {
    return repo().resolve("node-agent-core/src/test/resources/workloads").resolve(name);
  }
}
