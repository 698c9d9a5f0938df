package dev.warmstart.agent.hooks;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps a hook on the workload's own port. For a workload on the host's network, 127.0.0.1 is the
 * node's, with the kubelet, the container runtime and other local services behind it; in a pod,
 * sidecars' admin ports. Every listener on the hook's port that 127.0.0.1 reaches must belong to
 * the workload's process tree (its socket inode among the tree's descriptors), else the hook is
 * refused before anything is sent. A port nobody listens on is left to fail as "connection
 * refused".
 */
final class HookPorts {
  private static final String LISTEN = "0A";
  private final Path proc;

  HookPorts(Path proc) {
    this.proc = proc;
  }

  void requireOwnListener(int pid, int port, String desc) throws OperationFailure {
    try {
      Set<String> listeners = loopbackListeners(pid, port);
      if (listeners.isEmpty()) {
        return; // nothing listens: the connection is refused and says so
      }
      Set<String> owned = socketsOfTree(pid);
      if (!owned.containsAll(listeners)) {
        throw new OperationFailure(
            ErrorReason.InvalidRequest,
            desc
                + " is refused: port "
                + port
                + " is not one the workload's own processes listen on");
      }
    } catch (IOException e) {
      throw new OperationFailure(
          ErrorReason.HookFailed, desc + ": cannot check the workload's listening ports: " + e, e);
    }
  }

  /** Inodes of LISTEN sockets on {@code port} bound to a loopback or wildcard address. */
  Set<String> loopbackListeners(int pid, int port) throws IOException {
    Set<String> inodes = new HashSet<>();
    for (String table : List.of("tcp", "tcp6")) {
      Path f = proc.resolve(pid + "/net/" + table);
      if (!Files.exists(f)) {
        continue;
      }
      List<String> lines = Files.readAllLines(f);
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        String[] c = line.trim().split("\\s+");
        if (c.length < 10 || !LISTEN.equals(c[3])) {
          continue;
        }
        String[] local = c[1].split(":");
        if (Integer.parseInt(local[1], 16) == port && reachableFromLoopback(local[0])) {
          inodes.add(c[9]);
        }
      }
    }
    return inodes;
  }

  /** Wildcard or 127/8 (IPv4, or IPv4-mapped in tcp6), or ::1 / :: in tcp6. */
  private static boolean reachableFromLoopback(String hexAddr) {
    if (hexAddr.length() == 8) {
      return hexAddr.equals("00000000") || hexAddr.endsWith("7F");
    }
    return hexAddr.equals("00000000000000000000000000000000")
        || hexAddr.equals("00000000000000000000000001000000")
        || (hexAddr.startsWith("0000000000000000FFFF0000") && hexAddr.endsWith("7F"));
  }

  /** Socket inodes open in the process and its descendants. */
  private Set<String> socketsOfTree(int pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    List<Long> pids = new ArrayList<>(List.of((long) pid));
    ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
    for (long p : pids) {
      Path fds = proc.resolve(p + "/fd");
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(fds)) {
        for (Path fd : ds) {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (target.startsWith("socket:[")) {
              inodes.add(target.substring(8, target.length() - 1));
            }
          } catch (IOException closed) {
            // closed meanwhile
          }
        }
      } catch (IOException gone) {
        // exited meanwhile
      }
    }
    return inodes;
  }
}
