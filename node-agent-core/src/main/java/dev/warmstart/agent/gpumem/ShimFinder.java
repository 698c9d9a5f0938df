package dev.warmstart.agent.gpumem;

import dev.warmstart.agent.proc.Procfs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the processes of a tree that run the shim: those whose control socket exists at {@code
 * $WARMSTART_GPUMEM_DIR/warmstart-gpumem-<pid in its namespace>.sock} (default directory {@code
 * /tmp}), seen through {@code /proc/<pid>/root}. A process without one is not managed, and
 * everything about it stays as without the shim.
 */
public final class ShimFinder {
  static final String DIR_ENV = "WARMSTART_GPUMEM_DIR";
  static final String DEFAULT_DIR = "/tmp";

  private final Procfs procfs;
  private final Path proc;

  public ShimFinder(Procfs procfs) {
    this(procfs, Path.of("/proc"));
  }

  ShimFinder(Procfs procfs, Path proc) {
    this.procfs = procfs;
    this.proc = proc;
  }

  public List<GpuMemoryShim> find(List<Integer> pids) {
    List<GpuMemoryShim> out = new ArrayList<>();
    for (int pid : pids) {
      try {
        List<Integer> ns = procfs.nsPids(pid);
        int nsPid = ns.isEmpty() ? pid : ns.get(ns.size() - 1);
        String dir = environ(pid, DIR_ENV);
        String inside = (dir == null || dir.isEmpty() ? DEFAULT_DIR : dir);
        Path socket =
            proc.resolve(Integer.toString(pid))
                .resolve("root")
                .resolve(inside.replaceFirst("^/+", ""))
                .resolve("warmstart-gpumem-" + nsPid + ".sock");
        if (Files.exists(socket) && !Files.isRegularFile(socket) && !Files.isDirectory(socket)) {
          out.add(new GpuMemoryShim(pid, nsPid, socket));
        }
      } catch (IOException e) {
        // gone meanwhile, or not ours to read: not a managed process
      }
    }
    return out;
  }

  private String environ(int pid, String name) throws IOException {
    byte[] raw = Files.readAllBytes(proc.resolve(Integer.toString(pid)).resolve("environ"));
    String prefix = name + "=";
    for (String kv : new String(raw, StandardCharsets.UTF_8).split("\0")) {
      if (kv.startsWith(prefix)) {
        return kv.substring(prefix.length());
      }
    }
    return null;
  }
}
