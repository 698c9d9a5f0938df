package dev.warmstart.agent.checkpoint;

import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.Manifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Works out how a process tree sits in its container, compared with the agent's own (host)
 * namespaces: which namespaces and mounts CRIU must treat as external so that a restore can take
 * them from a placeholder container instead of recreating them.
 */
final class TreeInspector {
  private static final Set<String> VIRTUAL_FS =
      Set.of(
          "proc",
          "sysfs",
          "tmpfs",
          "devtmpfs",
          "devpts",
          "mqueue",
          "securityfs",
          "debugfs",
          "tracefs",
          "bpf",
          "fusectl",
          "binfmt_misc",
          "configfs",
          "pstore",
          "hugetlbfs");

  private final Procfs procfs;
  private final int self;

  TreeInspector(Procfs procfs) {
    this.procfs = procfs;
    this.self = (int) ProcessHandle.current().pid();
  }

  /** The tree's layout and the {@code --external} values for its dump. */
  record Layout(Manifest.Source source, List<String> dumpExternals) {}

  Layout inspect(int pid, String containerId) throws IOException {
    List<String> externals = new ArrayList<>();
    String pidNs;
    if (sameNs(pid, "pid")) {
      pidNs = "host";
    } else {
      List<Integer> nsPids = procfs.nsPids(pid);
      if (nsPids.get(nsPids.size() - 1) == 1) {
        pidNs = "own"; // the tree's root is its container's init: CRIU dumps the namespace
      } else {
        pidNs = "shared";
        externals.add("pid[" + procfs.namespaceInode(pid, "pid") + "]:extPid");
      }
    }
    boolean externalNet = !sameNs(pid, "net");
    if (externalNet) {
      externals.add("net[" + procfs.namespaceInode(pid, "net") + "]:extNet");
    }
    List<Manifest.ExternalMount> mounts = new ArrayList<>();
    if (!sameNs(pid, "mnt")) {
      mounts = externalMounts(procfs.mounts(pid));
      for (Manifest.ExternalMount m : mounts) {
        externals.add("mnt[" + m.mountPoint() + "]:" + m.key());
      }
    }
    Map<Integer, String> stdio = new LinkedHashMap<>();
    for (int fd = 0; fd <= 2; fd++) {
      int n = fd;
      procfs.fdTarget(pid, fd).ifPresent(t -> stdio.put(n, t));
    }
    Manifest.Source source =
        new Manifest.Source(
            pid,
            procfs.tree(pid),
            procfs.cmdline(pid),
            containerId,
            pidNs,
            externalNet,
            !sameNs(pid, "uts"),
            mounts,
            stdio);
    return new Layout(source, externals);
  }

  /**
   * Mounts CRIU cannot carry in the image: cgroup mounts, and volumes (bind mounts of host
   * directories or whole non-virtual filesystems). Binds of the container's own virtual mounts
   * (runc's masked paths on /dev/null, read-only /proc binds) stay internal.
   */
  static List<Manifest.ExternalMount> externalMounts(List<Procfs.Mount> mounts) {
    Set<String> internalVirtualDevices = new HashSet<>();
    for (Procfs.Mount m : mounts) {
      if (VIRTUAL_FS.contains(m.fsType()) && m.root().equals("/") && !m.mountPoint().equals("/")) {
        internalVirtualDevices.add(m.device());
      }
    }
    List<Manifest.ExternalMount> out = new ArrayList<>();
    int volumes = 0;
    for (Procfs.Mount m : mounts) {
      if (m.mountPoint().equals("/")) {
        continue;
      }
      if (m.fsType().startsWith("cgroup")) {
        String name =
            m.mountPoint().equals("/sys/fs/cgroup") ? "unified" : baseName(m.mountPoint());
        out.add(
            new Manifest.ExternalMount(
                "cg-" + name.replace(',', '_').replace('=', '_'), m.mountPoint(), "cgroup"));
      } else if (!(VIRTUAL_FS.contains(m.fsType())
          && (m.root().equals("/") || internalVirtualDevices.contains(m.device())))) {
        out.add(new Manifest.ExternalMount("vol-" + volumes++, m.mountPoint(), "volume"));
      }
    }
    return out;
  }

  private boolean sameNs(int pid, String ns) throws IOException {
    return procfs.namespaceInode(pid, ns) == procfs.namespaceInode(self, ns);
  }

  private static String baseName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
