package dev.warmstart.agent.criu;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.ptr.IntByReference;
import dev.warmstart.agent.proc.Signals;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A started {@code criu swrk <fd>}: its PID and our end of the SOCK_SEQPACKET pair it serves RPC
 * requests on (one protobuf message per packet). Started with posix_spawn, because the child must
 * get the pair's other end, and the files CRIU inherits (a container's namespaces, its stdout), at
 * fixed descriptor numbers; every other descriptor of the agent is closed in the child.
 */
final class SwrkChild implements AutoCloseable {
  private static final SwrkLibC C = SwrkLibC.INSTANCE;
  private static final int MAX_MESSAGE = 1 << 20;

  /** A descriptor the child gets at number {@code fd}, opened by the agent from {@code path}. */
  record InheritedFd(int fd, Path path, boolean write) {}

  private final int pid;
  private final int socket;
  private final byte[] buffer = new byte[MAX_MESSAGE];
  private Integer waitStatus;

  private SwrkChild(int pid, int socket) {
    this.pid = pid;
    this.socket = socket;
  }

  /**
   * Starts {@code command} followed by the number of the descriptor that carries the RPC socket
   * (the last argument of {@code criu swrk}), with exactly {@code env} as its environment.
   */
  static SwrkChild start(List<String> command, Map<String, String> env, List<InheritedFd> fds)
      throws IOException {
    int swrkFd = Math.max(2, fds.stream().mapToInt(InheritedFd::fd).max().orElse(2)) + 1;
    Set<Integer> targets = new HashSet<>();
    fds.forEach(f -> targets.add(f.fd()));
    targets.add(swrkFd);
    int[] pair = new int[2];
    try {
      C.socketpair(SwrkLibC.AF_UNIX, SwrkLibC.SOCK_SEQPACKET | SwrkLibC.SOCK_CLOEXEC, 0, pair);
    } catch (LastErrorException e) {
      throw new IOException("socketpair(SOCK_SEQPACKET): errno " + e.getErrorCode(), e);
    }
    List<Integer> toClose = new ArrayList<>(List.of(pair[1]));
    Memory actions = new Memory(SwrkLibC.FILE_ACTIONS_SIZE);
    Memory attr = new Memory(SwrkLibC.SPAWNATTR_SIZE);
    actions.clear();
    attr.clear();
    C.posix_spawn_file_actions_init(actions);
    C.posix_spawnattr_init(attr);
    try {
      for (InheritedFd f : fds) {
        int flags =
            f.write() ? SwrkLibC.O_WRONLY | SwrkLibC.O_CREAT | SwrkLibC.O_TRUNC : SwrkLibC.O_RDONLY;
        int fd = openOutside(f.path(), flags | SwrkLibC.O_CLOEXEC, targets, toClose);
        check(C.posix_spawn_file_actions_adddup2(actions, fd, f.fd()), "adddup2");
      }
      int child = moveOutside(pair[1], targets, toClose);
      check(C.posix_spawn_file_actions_adddup2(actions, child, swrkFd), "adddup2");
      // Nothing else of the agent's reaches CRIU (JVM descriptors are not all close-on-exec).
      for (int n = 0; n < swrkFd; n++) {
        if (!targets.contains(n)) {
          check(C.posix_spawn_file_actions_addclose(actions, n), "addclose");
        }
      }
      check(C.posix_spawn_file_actions_addclosefrom_np(actions, swrkFd + 1), "addclosefrom_np");
      // Java threads may block signals; CRIU must see SIGTERM (it undoes a dump on it).
      Memory emptySet = new Memory(SwrkLibC.SIGSET_SIZE);
      emptySet.clear();
      check(C.posix_spawnattr_setflags(attr, SwrkLibC.POSIX_SPAWN_SETSIGMASK), "setflags");
      check(C.posix_spawnattr_setsigmask(attr, emptySet), "setsigmask");

      List<String> argv = new ArrayList<>(command);
      argv.add(Integer.toString(swrkFd));
      String[] envp =
          env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
      IntByReference pid = new IntByReference();
      int rc = C.posix_spawn(pid, argv.get(0), actions, attr, argv.toArray(String[]::new), envp);
      if (rc != 0) {
        C.close(pair[0]);
        throw new IOException("cannot start " + argv.get(0) + ": errno " + rc);
      }
      return new SwrkChild(pid.getValue(), pair[0]);
    } catch (IOException | RuntimeException e) {
      C.close(pair[0]);
      throw e;
    } finally {
      toClose.forEach(C::close);
      C.posix_spawn_file_actions_destroy(actions);
      C.posix_spawnattr_destroy(attr);
    }
  }

  private static int openOutside(Path path, int flags, Set<Integer> targets, List<Integer> toClose)
      throws IOException {
    int fd;
    try {
      fd = C.open(path.toString(), flags, 0600);
    } catch (LastErrorException e) {
      throw new IOException("cannot open " + path + " for CRIU: errno " + e.getErrorCode(), e);
    }
    toClose.add(fd);
    return moveOutside(fd, targets, toClose);
  }

  /**
   * {@code fd}, or a duplicate numbered above every target: a dup2 into one target must not
   * overwrite the source of another (nor be a no-op that keeps close-on-exec).
   */
  private static int moveOutside(int fd, Set<Integer> targets, List<Integer> toClose)
      throws IOException {
    if (!targets.contains(fd)) {
      return fd;
    }
    int above = targets.stream().mapToInt(Integer::intValue).max().orElse(2) + 1;
    try {
      int moved = C.fcntl(fd, SwrkLibC.F_DUPFD_CLOEXEC, above);
      toClose.add(moved);
      return moved;
    } catch (LastErrorException e) {
      throw new IOException("fcntl(F_DUPFD_CLOEXEC): errno " + e.getErrorCode(), e);
    }
  }

  private static void check(int rc, String call) throws IOException {
    if (rc != 0) {
      throw new IOException("posix_spawn " + call + ": errno " + rc);
    }
  }

  int pid() {
    return pid;
  }

  void send(byte[] message) throws IOException {
    try {
      C.send(socket, message, message.length, SwrkLibC.MSG_NOSIGNAL);
    } catch (LastErrorException e) {
      throw new IOException("sending to criu swrk: errno " + e.getErrorCode(), e);
    }
  }

  /**
   * The next message CRIU sent, if one arrives within {@code wait}.
   *
   * @throws EOFException when CRIU closed its end (it exited)
   */
  Optional<byte[]> receive(Duration wait) throws IOException {
    Memory pollFd = new Memory(8);
    pollFd.setInt(0, socket);
    pollFd.setShort(4, SwrkLibC.POLLIN);
    pollFd.setShort(6, (short) 0);
    try {
      if (C.poll(pollFd, 1, (int) Math.min(Integer.MAX_VALUE, wait.toMillis())) == 0) {
        return Optional.empty();
      }
      long n = C.recv(socket, buffer, buffer.length, SwrkLibC.MSG_TRUNC);
      if (n == 0) {
        throw new EOFException("criu swrk closed the connection");
      }
      if (n > buffer.length) {
        throw new IOException("criu swrk sent a message of " + n + " bytes");
      }
      byte[] message = new byte[(int) n];
      System.arraycopy(buffer, 0, message, 0, (int) n);
      return Optional.of(message);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == SwrkLibC.EINTR) {
        return Optional.empty();
      }
      throw new IOException("receiving from criu swrk: errno " + e.getErrorCode(), e);
    }
  }

  /** Whether the child still runs (reaps it when it has ended). */
  boolean isAlive() {
    if (waitStatus != null) {
      return false;
    }
    IntByReference status = new IntByReference();
    try {
      if (C.waitpid(pid, status, SwrkLibC.WNOHANG) == pid) {
        waitStatus = status.getValue();
        return false;
      }
      return true;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == SwrkLibC.ECHILD) {
        waitStatus = -1;
        return false;
      }
      throw new IllegalStateException("waitpid(" + pid + "): errno " + e.getErrorCode(), e);
    }
  }

  /** Waits up to {@code timeout} for the child to end; whether it did. */
  boolean waitFor(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (isAlive()) {
      if (System.nanoTime() > end) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  /** How the ended child ended, e.g. "exit 1" or "killed by signal 9". */
  String exitNote() {
    if (waitStatus == null) {
      return "still running";
    }
    if (waitStatus == -1) {
      return "reaped elsewhere";
    }
    int signal = waitStatus & 0x7f;
    return signal == 0 ? "exit " + ((waitStatus >> 8) & 0xff) : "killed by signal " + signal;
  }

  /** The child's exit code, or -1 when a signal ended it. */
  int exitCode() {
    return waitStatus != null && (waitStatus & 0x7f) == 0 ? (waitStatus >> 8) & 0xff : -1;
  }

  void signal(int signal) {
    Signals.send(pid, signal);
  }

  /** Closes our end; a child still running then is killed (its work is already given up). */
  @Override
  public void close() throws InterruptedException {
    C.close(socket);
    if (isAlive()) {
      signal(Signals.SIGKILL);
      waitFor(Duration.ofSeconds(10));
    }
  }
}
