package dev.warmstart.agent.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * node-agent-core is plain Java: the classes of the service's and the CLI's frameworks are not on
 * its classpath (the pom's enforcer rule bans them as dependencies, even transitive ones), so core
 * code that names one does not compile. This checks the classpath the core's tests really get.
 */
class CoreBoundaryTest {
  static final List<String> FRAMEWORKS =
      List.of(
          "io.quarkus.runtime.Quarkus",
          "io.vertx.core.Vertx",
          "io.netty.channel.Channel",
          "io.micrometer.core.instrument.MeterRegistry",
          "jakarta.inject.Inject",
          "jakarta.ws.rs.Path",
          "org.eclipse.microprofile.config.Config",
          "io.smallrye.config.SmallRyeConfig",
          "org.jboss.logmanager.LogManager",
          "picocli.CommandLine",
          "dev.warmstart.agent.AgentBeans",
          "dev.warmstart.agent.api.ApiJson",
          "dev.warmstart.agent.cli.WarmstartCli");

  private static boolean loadable(String name) {
    try {
      Class.forName(name, false, CoreBoundaryTest.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  @Test
  void noFrameworkOfTheServiceOrTheCliIsOnTheCoreClasspath() {
    assertThat(FRAMEWORKS.stream().filter(CoreBoundaryTest::loadable).toList()).isEmpty();
  }

  @Test
  void theCheckSeesWhatIsThere() {
    assertThat(loadable("dev.warmstart.agent.core.AgentComponents")).isTrue();
    assertThat(loadable("com.sun.jna.Native")).isTrue();
    assertThat(loadable("org.jboss.logging.Logger")).as("the logging facade only").isTrue();
  }
}
