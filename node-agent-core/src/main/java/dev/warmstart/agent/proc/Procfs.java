package dev.warmstart.agent.proc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Reads process facts from /proc (host PID namespace: the agent runs with hostPID). */
public final class Procfs {
  private final Path proc;

  public Procfs() {
    this(Path.of("/proc"));
  }

  private Procfs(Path proc) {
    this.proc = proc;
  }

  /**
   * Facts read from another directory laid out as /proc: a test's fake process table, so that
   * decisions made from /proc are checked without root or real processes.
   */
  public static Procfs at(Path procRoot) {
    return new Procfs(procRoot);
  }

  public boolean exists(int pid) {
    return pid > 0 && Files.isDirectory(proc.resolve(Integer.toString(pid)));
  }

  /** One line of /proc/PID/cgroup: hierarchy id, controllers ("" for v2), path. */
  public record CgroupEntry(String hierarchyId, String controllers, String path) {}

  /** One line of /proc/PID/mountinfo. */
  public record Mount(
      String device, String root, String mountPoint, String fsType, String source) {}

  /** PIDs of the process in each nested PID namespace, host first ("NSpid:" of status). */
  public List<Integer> nsPids(int pid) throws IOException {
    for (String line : read(pid, "status")) {
      if (line.startsWith("NSpid:")) {
        return Arrays.stream(line.substring(6).trim().split("\\s+")).map(Integer::valueOf).toList();
      }
    }
    return List.of(pid);
  }

  /** Single-letter scheduler state (R, S, D, T, t, Z...). */
  public char state(int pid) throws IOException {
    for (String line : read(pid, "status")) {
      if (line.startsWith("State:")) {
        return line.substring(6).trim().charAt(0);
      }
    }
    throw new IOException("no State in /proc/" + pid + "/status");
  }

  /** Inode of a namespace of the process, e.g. "pid" or "net". */
  public long namespaceInode(int pid, String ns) throws IOException {
    return ((Number) Files.getAttribute(nsPath(pid, ns), "unix:ino")).longValue();
  }

  public Path nsPath(int pid, String ns) {
    return proc.resolve(pid + "/ns/" + ns);
  }

  public Path fdPath(int pid, int fd) {
    return proc.resolve(pid + "/fd/" + fd);
  }

  /** What an fd points to, e.g. "pipe:[1234]" or "/dev/null"; empty if closed. */
  public Optional<String> fdTarget(int pid, int fd) throws IOException {
    try {
      return Optional.of(Files.readSymbolicLink(fdPath(pid, fd)).toString());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  public List<CgroupEntry> cgroups(int pid) throws IOException {
    List<CgroupEntry> out = new ArrayList<>();
    for (String line : read(pid, "cgroup")) {
      String[] f = line.split(":", 3);
      if (f.length == 3) {
        out.add(new CgroupEntry(f[0], f[1], f[2]));
      }
    }
    return out;
  }

  public List<Mount> mounts(int pid) throws IOException {
    List<Mount> out = new ArrayList<>();
    for (String line : read(pid, "mountinfo")) {
      String[] f = line.split(" ");
      int dash = Arrays.asList(f).indexOf("-");
      if (dash < 0 || f.length < dash + 3) {
        continue;
      }
      out.add(new Mount(f[2], unescape(f[3]), unescape(f[4]), f[dash + 1], f[dash + 2]));
    }
    return out;
  }

  /** The process and all its descendants, as host PIDs. */
  public List<Integer> tree(int pid) {
    return ProcessHandle.of(pid)
        .map(
            h -> {
              List<Integer> all = new ArrayList<>(List.of(pid));
              h.descendants().forEach(d -> all.add((int) d.pid()));
              return all;
            })
        .orElse(List.of());
  }

  /**
   * The command line, arguments separated by spaces, with secret-looking values redacted ({@link
   * CommandLines}): every caller lets it out of the agent (manifest, messages).
   */
  public String cmdline(int pid) {
    try {
      String raw = new String(Files.readAllBytes(proc.resolve(pid + "/cmdline")));
      List<String> argv = new ArrayList<>(Arrays.asList(raw.split("\0")));
      argv.removeIf(String::isEmpty);
      return CommandLines.redact(argv);
    } catch (IOException e) {
      return "";
    }
  }

  private List<String> read(int pid, String file) throws IOException {
    try {
      return Files.readAllLines(proc.resolve(pid + "/" + file));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private static String unescape(String s) {
    return s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\");
  }
}
