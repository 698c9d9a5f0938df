package dev.warmstart.agent.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.proc.Signals;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A stopped workload is resumed with no kill(1) on the PATH (G10: the agent image has none). */
class TreeResumerTest {
  @Test
  void aStoppedTaskIsResumedWithoutAKillBinary() throws Exception {
    Process sleeper = new ProcessBuilder("sleep", "60").start();
    try {
      int pid = (int) sleeper.pid();
      Signals.send(pid, Signals.SIGSTOP);
      for (int i = 0; i < 100 && new Procfs().state(pid) != 'T'; i++) {
        Thread.sleep(20);
      }
      assertThat(new Procfs().state(pid)).isEqualTo('T');
      String java = ProcessHandle.current().info().command().orElse("java");
      ProcessBuilder pb =
          new ProcessBuilder(
              java,
              "-cp",
              System.getProperty("java.class.path"),
              ResumeWithoutKillBinary.class.getName(),
              Integer.toString(pid));
      pb.environment().put("PATH", "/nonexistent");
      Process probe = pb.redirectErrorStream(true).start();
      String out = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      probe.waitFor();
      assertThat(out.strip()).endsWith("1");
      for (int i = 0; i < 100 && new Procfs().state(pid) == 'T'; i++) {
        Thread.sleep(20);
      }
      assertThat(new Procfs().state(pid)).as("running again").isNotEqualTo('T');
    } finally {
      sleeper.destroyForcibly();
    }
  }
}
