package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The mechanism behind restoring into a pod: a tree captured from runc container A (its app is the
 * container's PID 1, as in Kubernetes) is restored into an already running placeholder container B
 * of the same image.
 */
class PlaceholderRestoreIT {
  private static final Duration T = Duration.ofMinutes(2);
  @TempDir Path work;

  @ParameterizedTest(name = "placeholder started by {0}")
  @ValueSource(strings = {"runc", "podman"})
  void appRestoredIntoPlaceholderRunsInItsNamespacesCgroupsVolumeAndStdout(String runtime)
      throws Exception {
    assumeTrue(RuncContainer.available(), "runc and busybox-static are needed");
    assumeTrue(!runtime.equals("podman") || PodmanContainer.available(), "podman is needed");
    AgentComponents agent = TestEnv.components(work.resolve("store"));
    Procfs procfs = new Procfs();
    String suffix = ProcessHandle.current().pid() + runtime.substring(0, 1);
    try (RuncContainer a = RuncContainer.start(work, "ws-src-" + suffix, List.of("/app.sh"));
        TestContainer b = placeholder(runtime, "ws-dst-" + runtime + "-" + suffix)) {
      a.awaitLine("tick 3 ");
      StoredImage image =
          agent
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofContainer(a.id), "container-app", T).build(),
                  Progress.NONE);
      assertThat(image.manifest().source().pidNamespace()).isEqualTo("own");
      assertThat(image.manifest().source().mounts())
          .anySatisfy(m -> assertThat(m.mountPoint()).isEqualTo("/data"));
      String lastTick = lastTick(Files.readAllLines(a.volume.resolve("ticks")));

      RestoreResult r =
          agent.restores().restore("container-app", Optional.of(b.id()), T, Progress.NONE);
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
      assertThat(b.volume().resolve("ticks")).exists();
      assertThat(Files.readAllLines(a.volume.resolve("ticks")))
          .as("A's volume no longer written")
          .endsWith(lastTick);
      // the TCP listener works inside B's network namespace, serving B's rootfs
      assertThat(b.exec("wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html"))
          .contains("hello from ws-dst-" + runtime);

      // it dies with B
      b.kill();
      Workload.awaitGone(r.pid());
      assertThat(ProcessHandle.of(r.pid())).isEmpty();
    }
  }

  /**
   * A pod-style source (the app is not its container's PID 1, as with a shared process namespace):
   * the tree keeps its own PIDs inside the placeholder's PID namespace.
   */
  @Test
  void appThatSharedItsPidNamespaceKeepsItsPidsInThePlaceholders() throws Exception {
    assumeTrue(RuncContainer.available(), "runc and busybox-static are needed");
    AgentComponents agent = TestEnv.components(work.resolve("store"));
    Procfs procfs = new Procfs();
    String suffix = ProcessHandle.current().pid() + "s";
    try (RuncContainer a =
            RuncContainer.start(
                work,
                "ws-pod-src-" + suffix,
                List.of("sh", "-c", "setsid /app.sh & exec sleep 1000000"));
        TestContainer b = placeholder("runc", "ws-pod-dst-" + suffix)) {
      a.awaitLine("tick 3 ");
      // the app: the session leader the container's init started
      int app =
          (int)
              ProcessHandle.of(a.initPid())
                  .orElseThrow()
                  .children()
                  .findFirst()
                  .orElseThrow()
                  .pid();
      List<Integer> appPids = procfs.nsPids(app);
      StoredImage image =
          agent
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofPid(app), "pod-app", T).build(),
                  Progress.NONE);
      assertThat(image.manifest().source().pidNamespace()).isEqualTo("shared");

      RestoreResult r = agent.restores().restore("pod-app", Optional.of(b.id()), T, Progress.NONE);

      String first = b.awaitLine("tick ");
      assertThat(first)
          .as("same PID inside the namespace as before")
          .contains("pid=" + appPids.get(appPids.size() - 1));
      assertThat(procfs.namespaceInode(r.pid(), "pid"))
          .isEqualTo(procfs.namespaceInode(b.initPid(), "pid"));
      assertThat(procfs.namespaceInode(r.pid(), "net"))
          .isEqualTo(procfs.namespaceInode(b.initPid(), "net"));
      b.kill();
      Workload.awaitGone(r.pid());
      assertThat(ProcessHandle.of(r.pid())).isEmpty();
    }
  }

  private TestContainer placeholder(String runtime, String name) throws Exception {
    List<String> args = List.of("sh", "-c", "ip link set lo up; exec sleep 1000000");
    return runtime.equals("podman")
        ? PodmanContainer.start(work, name, args)
        : RuncContainer.start(work, name, args);
  }

  private static String lastTick(List<String> lines) {
    return lines.get(lines.size() - 1);
  }

  private static int tickNumber(String line) {
    return Integer.parseInt(line.split(" ")[1]);
  }
}
