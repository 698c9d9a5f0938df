package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.ops.AgentComponents;
import dev.warmstart.agent.ops.CheckpointCommand;
import dev.warmstart.agent.ops.Progress;
import dev.warmstart.agent.ops.RestoreResult;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mechanism behind restoring into a pod: a tree captured from runc container A (its app is the
 * container's PID 1, as in Kubernetes) is restored into an already running placeholder container B
 * of the same image.
 */
class PlaceholderRestoreIT {
  private static final Duration T = Duration.ofMinutes(2);
  @TempDir Path work;

  @Test
  void appRestoredIntoPlaceholderRunsInItsNamespacesCgroupsVolumeAndStdout() throws Exception {
    assumeTrue(
        RuncContainer.available(),
        "runc and busybox-static are needed (apt-get install runc busybox-static)");
    AgentComponents agent = TestEnv.components(work.resolve("store"));
    Procfs procfs = new Procfs();
    String suffix = Long.toString(ProcessHandle.current().pid());
    try (RuncContainer a = RuncContainer.start(work, "ws-src-" + suffix, List.of("/app.sh"));
        RuncContainer b =
            RuncContainer.start(
                work,
                "ws-dst-" + suffix,
                List.of("sh", "-c", "ip link set lo up; exec sleep 1000000"))) {
      a.awaitLine("tick 3 ");
      StoredImage image =
          agent
              .checkpoints()
              .checkpoint(
                  new CheckpointCommand(
                      ProcessTarget.ofContainer(a.id), "container-app", false, T, Map.of()),
                  Progress.NONE);
      assertThat(image.manifest().source().pidNamespace()).isEqualTo("own");
      assertThat(image.manifest().source().mounts())
          .anySatisfy(m -> assertThat(m.mountPoint()).isEqualTo("/data"));
      String lastTick = lastTick(Files.readAllLines(a.volume.resolve("ticks")));

      RestoreResult r =
          agent.restores().restore("container-app", Optional.of(b.id), T, Progress.NONE);
      int placeholder = b.initPid();

      // stdout continues on B's stdout, counting on from A's last tick (state survived)
      String first = b.awaitLine("tick ");
      assertThat(tickNumber(first)).isGreaterThan(tickNumber(lastTick));
      assertThat(first).as("the app is PID 1 of its nested namespace").contains("pid=1");
      // B's namespaces and cgroups
      for (String ns : List.of("net", "ipc", "uts")) {
        assertThat(procfs.namespaceInode(r.pid(), ns))
            .as(ns)
            .isEqualTo(procfs.namespaceInode(placeholder, ns));
      }
      List<Integer> nsPids = procfs.nsPids(r.pid());
      assertThat(nsPids).as("nested inside B's PID namespace").hasSize(3).endsWith(1);
      assertThat(procfs.cgroups(r.pid())).isEqualTo(procfs.cgroups(placeholder));
      // B's volume, not A's
      Thread.sleep(600);
      assertThat(b.volume.resolve("ticks")).exists();
      assertThat(Files.readAllLines(a.volume.resolve("ticks")))
          .as("A's volume no longer written")
          .endsWith(lastTick);
      // the TCP listener works inside B's network namespace, serving B's rootfs
      assertThat(b.exec("wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html"))
          .contains("hello from " + b.id);

      // it dies with B
      b.kill();
      Workload.awaitGone(r.pid());
      assertThat(ProcessHandle.of(r.pid())).isEmpty();
    }
  }

  private static String lastTick(List<String> lines) {
    return lines.get(lines.size() - 1);
  }

  private static int tickNumber(String line) {
    return Integer.parseInt(line.split(" ")[1]);
  }
}
