package dev.warmstart.agent.proc;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.ptr.IntByReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Signals and socket repair from the JVM through libc (kill(2), pidfd_getfd(2)): the agent image
 * has no kill(1), and a workload must never stay stopped because a binary is missing.
 */
public final class Signals {
  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;
  public static final int SIGCONT = 18;
  public static final int SIGSTOP = 19;
  private static final int ESRCH = 3;
  private static final long SYS_PIDFD_OPEN = 434;
  private static final long SYS_PIDFD_GETFD = 438;
  private static final int SOL_TCP = 6;
  private static final int TCP_REPAIR = 19;

  interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int kill(int pid, int sig) throws LastErrorException;

    long syscall(long number, Object... args) throws LastErrorException;

    int getsockopt(int fd, int level, int name, IntByReference value, IntByReference len)
        throws LastErrorException;

    int setsockopt(int fd, int level, int name, IntByReference value, int len)
        throws LastErrorException;

    int close(int fd);
  }

  private Signals() {}

  /** Sends {@code signal} to {@code pid}; false when there is no such process. */
  public static boolean send(int pid, int signal) {
    try {
      LibC.INSTANCE.kill(pid, signal);
      return true;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == ESRCH) {
        return false;
      }
      throw new IllegalStateException(
          "kill(" + pid + ", " + signal + "): errno " + e.getErrorCode());
    }
  }

  /**
   * Takes every TCP socket of {@code pids} out of repair mode; returns how many were in it. Done
   * while the tasks are still held (before a stuck CRIU is killed and its tracees resume): a {@code
   * recv} restarted on a socket in repair mode fails with EPERM, and the workload drops the
   * connection.
   */
  public static int leaveTcpRepair(List<Integer> pids) {
    int n = 0;
    for (int pid : pids) {
      try (Stream<Path> s = Files.list(Path.of("/proc", Integer.toString(pid), "fd"))) {
        for (Path fd : s.toList()) {
          try {
            if (Files.readSymbolicLink(fd).toString().startsWith("socket:")
                && leaveTcpRepair(pid, Integer.parseInt(fd.getFileName().toString()))) {
              n++;
            }
          } catch (IOException | NumberFormatException e) {
            // closed meanwhile
          }
        }
      } catch (IOException | UncheckedIOException e) {
        // the task is gone
      }
    }
    return n;
  }

  /**
   * Takes socket {@code fd} of {@code pid} out of TCP repair mode if an interrupted dump left it
   * there (its recv would fail with EPERM); false when it was not in repair or is no TCP socket.
   */
  public static boolean leaveTcpRepair(int pid, int fd) {
    int pidfd = -1;
    int local = -1;
    try {
      pidfd = (int) LibC.INSTANCE.syscall(SYS_PIDFD_OPEN, (long) pid, 0L);
      local = (int) LibC.INSTANCE.syscall(SYS_PIDFD_GETFD, (long) pidfd, (long) fd, 0L);
      IntByReference on = new IntByReference();
      IntByReference len = new IntByReference(4);
      LibC.INSTANCE.getsockopt(local, SOL_TCP, TCP_REPAIR, on, len);
      if (on.getValue() == 0) {
        return false;
      }
      LibC.INSTANCE.setsockopt(local, SOL_TCP, TCP_REPAIR, new IntByReference(0), 4);
      return true;
    } catch (LastErrorException e) {
      return false; // gone, closed, or no TCP socket
    } finally {
      if (local >= 0) {
        LibC.INSTANCE.close(local);
      }
      if (pidfd >= 0) {
        LibC.INSTANCE.close(pidfd);
      }
    }
  }
}
