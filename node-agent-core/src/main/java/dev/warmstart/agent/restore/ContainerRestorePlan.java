package dev.warmstart.agent.restore;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.criu.RestoreSpec;
import dev.warmstart.agent.criu.RestoreSpec.RedirectedFd;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.RestoreStage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How to restore a tree into a running placeholder container: onto its rootfs, into its network,
 * IPC and UTS namespaces and cgroups, with its volumes in place of the source's and stdout/stderr
 * on its own. A tree that shared its container's PID namespace keeps its PIDs in the placeholder's;
 * a tree whose root was its container's init gets a PID namespace nested in the placeholder's (CRIU
 * cannot restore an init into an existing namespace).
 */
final class ContainerRestorePlan {
  private static final int FD_STDOUT = 3;
  private static final int FD_STDERR = 4;
  private static final int FD_PIDNS = 5;
  private static final int FD_NETNS = 6;
  private static final int FD_STDIN = 7;

  private ContainerRestorePlan() {}

  static RestoreSpec plan(
      Manifest manifest, ContainerRef target, Procfs procfs, Path imageDir, Path workDir)
      throws OperationFailure, IOException {
    Manifest.Source src = manifest.source();
    if ("host".equals(src.pidNamespace())) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "image '"
              + manifest.name()
              + "' holds a host process, not a container's: restore it without a container");
    }
    int b = target.initPid();
    boolean nested = "own".equals(src.pidNamespace());
    // Inside the nested variant CRIU runs in B's PID namespace with its own /proc, where B is 1.
    String nsPid = nested ? "1" : Integer.toString(b);

    List<String> inherit = new ArrayList<>();
    List<RedirectedFd> fds = new ArrayList<>();
    if (!nested) {
      inherit.add("fd[" + FD_PIDNS + "]:extPid");
      fds.add(new RedirectedFd(FD_PIDNS, procfs.nsPath(b, "pid"), false));
    }
    if (src.externalNet()) {
      inherit.add("fd[" + FD_NETNS + "]:extNet");
      fds.add(new RedirectedFd(FD_NETNS, procfs.nsPath(b, "net"), false));
    }
    String out = src.stdio().get(1);
    String err = src.stdio().get(2);
    String in = src.stdio().get(0);
    if (isPipe(out)) {
      inherit.add("fd[" + FD_STDOUT + "]:" + out);
      fds.add(new RedirectedFd(FD_STDOUT, procfs.fdPath(b, 1), true));
    }
    if (isPipe(err) && !err.equals(out)) {
      inherit.add("fd[" + FD_STDERR + "]:" + err);
      fds.add(new RedirectedFd(FD_STDERR, procfs.fdPath(b, 2), true));
    }
    if (isPipe(in)) {
      inherit.add("fd[" + FD_STDIN + "]:" + in);
      fds.add(new RedirectedFd(FD_STDIN, procfs.fdPath(b, 0), false));
    }

    List<String> join = new ArrayList<>();
    if (src.ownIpcUts()) {
      join.add("ipc:/proc/" + nsPid + "/ns/ipc");
      join.add("uts:/proc/" + nsPid + "/ns/uts");
    }

    List<Procfs.CgroupEntry> cgroups = procfs.cgroups(b);
    List<String> externals = new ArrayList<>();
    for (Manifest.ExternalMount m : src.mounts()) {
      String hostPath =
          switch (m.kind()) {
            case "cgroup" -> cgroupDir(m.mountPoint(), cgroups);
            default ->
                target
                    .sourceOf(m.mountPoint())
                    .orElseThrow(
                        () ->
                            new OperationFailure(
                                ErrorReason.InvalidRequest,
                                "the checkpoint has a volume at "
                                    + m.mountPoint()
                                    + " but placeholder container "
                                    + target.id()
                                    + " mounts nothing there"));
          };
      externals.add("mnt[" + m.key() + "]:" + hostPath);
    }

    List<Path> procsFiles = new ArrayList<>();
    for (Procfs.CgroupEntry e : cgroups) {
      procsFiles.add(Path.of(cgroupMountDir(e.controllers()) + e.path()).resolve("cgroup.procs"));
    }
    return new RestoreSpec(
        imageDir,
        workDir,
        workDir.resolve("restore.pid"),
        Optional.of(target.rootfs()),
        inherit,
        fds,
        join,
        externals,
        procsFiles,
        nested ? Optional.of(b) : Optional.empty(),
        Optional.empty(),
        RestoreStage.RUNNING);
  }

  private static boolean isPipe(String target) {
    return target != null && target.startsWith("pipe:[");
  }

  /** The placeholder's own directory in the hierarchy a source cgroup mount showed. */
  private static String cgroupDir(String mountPoint, List<Procfs.CgroupEntry> cgroups)
      throws OperationFailure {
    String base = mountPoint.substring(mountPoint.lastIndexOf('/') + 1);
    for (Procfs.CgroupEntry e : cgroups) {
      String dir = cgroupMountDir(e.controllers());
      boolean v2 =
          e.controllers().isEmpty()
              && (mountPoint.equals("/sys/fs/cgroup") || base.equals("unified"));
      if (v2 || dir.equals("/sys/fs/cgroup/" + base)) {
        return dir + e.path();
      }
    }
    throw new OperationFailure(
        ErrorReason.InvalidRequest,
        "placeholder has no cgroup for the source's mount " + mountPoint);
  }

  /**
   * Host mount directory of a hierarchy: "cpu" → /sys/fs/cgroup/cpu, v2 → /sys/fs/cgroup/unified or
   * root.
   */
  private static String cgroupMountDir(String controllers) {
    if (controllers.isEmpty()) {
      return java.nio.file.Files.isDirectory(Path.of("/sys/fs/cgroup/unified"))
          ? "/sys/fs/cgroup/unified"
          : "/sys/fs/cgroup";
    }
    return "/sys/fs/cgroup/" + controllers.replace("name=", "");
  }
}
