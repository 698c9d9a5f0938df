package dev.warmstart.agent.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.criu.RestoreSpec;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.api.agent.ErrorReason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a tree is placed into a running placeholder container, decided from the image's manifest and
 * the placeholder's /proc entries. The /proc here is a fake directory ({@link Procfs#at}): the
 * decision needs no root, no container and no CRIU (PlaceholderRestoreIT runs the real thing).
 */
class ContainerRestorePlanTest {
  static final int INIT = 100;
  static final String POD_CGROUP = "/kubepods/pod-1/ctr-b";

  @TempDir Path dir;
  Path proc;
  Procfs procfs;

  @BeforeEach
  void fakeProc() throws Exception {
    proc = Files.createDirectories(dir.resolve("proc"));
    Files.createDirectories(proc.resolve(INIT + "/ns"));
    Files.writeString(
        proc.resolve(INIT + "/cgroup"),
        "4:cpu,cpuacct:" + POD_CGROUP + "\n3:memory:" + POD_CGROUP + "\n");
    procfs = Procfs.at(proc);
  }

  static Manifest manifest(
      String pidNamespace, boolean ownIpcUts, List<Manifest.ExternalMount> mounts) {
    return Manifest.builder("app")
        .source(
            new Manifest.Source(
                7,
                List.of(7, 8),
                "python3 app.py",
                "ctr-a",
                pidNamespace,
                true,
                ownIpcUts,
                mounts,
                Map.of(0, "/dev/null", 1, "pipe:[42]", 2, "pipe:[42]")))
        .build();
  }

  ContainerRef placeholder(ContainerRef.MountSpec... mounts) {
    return new ContainerRef("ctr-b", INIT, dir.resolve("rootfs"), List.of(mounts));
  }

  RestoreSpec plan(Manifest m, ContainerRef target) throws Exception {
    return ContainerRestorePlan.plan(m, target, procfs, dir.resolve("image"), dir.resolve("work"));
  }

  @Test
  void aTreeThatSharedItsContainersPidNamespaceJoinsThePlaceholdersNamespaces() throws Exception {
    RestoreSpec spec = plan(manifest("shared", true, List.of()), placeholder());
    assertThat(spec.root()).contains(dir.resolve("rootfs"));
    assertThat(spec.enterPidNamespaceOf()).isEmpty();
    assertThat(spec.inheritFds())
        .containsExactly("fd[5]:extPid", "fd[6]:extNet", "fd[3]:pipe:[42]");
    assertThat(spec.fdSources())
        .extracting(RestoreSpec.RedirectedFd::path)
        .containsExactly(
            proc.resolve(INIT + "/ns/pid"),
            proc.resolve(INIT + "/ns/net"),
            proc.resolve(INIT + "/fd/1"));
    assertThat(spec.joinNamespaces())
        .containsExactly("ipc:/proc/" + INIT + "/ns/ipc", "uts:/proc/" + INIT + "/ns/uts");
    assertThat(spec.cgroupProcsFiles())
        .containsExactly(
            Path.of("/sys/fs/cgroup/cpu,cpuacct" + POD_CGROUP + "/cgroup.procs"),
            Path.of("/sys/fs/cgroup/memory" + POD_CGROUP + "/cgroup.procs"));
  }

  @Test
  void aTreeWhoseRootWasItsContainersInitGetsANestedPidNamespace() throws Exception {
    RestoreSpec spec = plan(manifest("own", true, List.of()), placeholder());
    assertThat(spec.enterPidNamespaceOf()).contains(INIT);
    assertThat(spec.inheritFds()).doesNotContain("fd[5]:extPid");
    assertThat(spec.joinNamespaces()).containsExactly("ipc:/proc/1/ns/ipc", "uts:/proc/1/ns/uts");
  }

  @Test
  void volumesAndCgroupMountsMapOntoThePlaceholders() throws Exception {
    RestoreSpec spec =
        plan(
            manifest(
                "shared",
                false,
                List.of(
                    new Manifest.ExternalMount("mnt-data", "/data", "bind"),
                    new Manifest.ExternalMount("mnt-cg", "/sys/fs/cgroup/memory", "cgroup"))),
            placeholder(new ContainerRef.MountSpec("/var/lib/kubelet/vol-b", "/data", "bind")));
    assertThat(spec.externals())
        .containsExactly(
            "mnt[mnt-data]:/var/lib/kubelet/vol-b",
            "mnt[mnt-cg]:/sys/fs/cgroup/memory" + POD_CGROUP);
    assertThat(spec.joinNamespaces()).isEmpty();
  }

  @Test
  void aVolumeThePlaceholderLacksOrAHostImageIsRefused() {
    Manifest withVolume =
        manifest("shared", false, List.of(new Manifest.ExternalMount("m", "/data", "bind")));
    assertThatThrownBy(() -> plan(withVolume, placeholder()))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.InvalidRequest))
        .hasMessageContaining("volume at /data")
        .hasMessageContaining("mounts nothing there");
    assertThatThrownBy(() -> plan(manifest("host", false, List.of()), placeholder()))
        .isInstanceOfSatisfying(
            OperationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(ErrorReason.InvalidRequest))
        .hasMessageContaining("restore it without a container");
  }

  @Test
  void aCgroupMountThePlaceholderHasNoHierarchyForIsRefused() {
    Manifest m =
        manifest(
            "shared",
            false,
            List.of(new Manifest.ExternalMount("cg", "/sys/fs/cgroup/pids", "cgroup")));
    assertThatThrownBy(() -> plan(m, placeholder()))
        .isInstanceOf(OperationFailure.class)
        .hasMessageContaining("no cgroup for the source's mount /sys/fs/cgroup/pids");
  }
}
