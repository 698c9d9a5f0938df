package dev.warmstart.agent.criu;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The few libc calls that start {@code criu swrk} and talk to it: Java can neither create a
 * SOCK_SEQPACKET socket pair nor hand a descriptor above 2 to a child (ProcessBuilder closes them).
 * x86_64 glibc (the agent image is Debian bookworm, glibc 2.36).
 */
interface SwrkLibC extends Library {
  SwrkLibC INSTANCE = Native.load("c", SwrkLibC.class);

  int AF_UNIX = 1;
  int SOCK_SEQPACKET = 5;
  int SOCK_CLOEXEC = 0x80000;
  int O_RDONLY = 0;
  int O_WRONLY = 1;
  int O_CREAT = 0x40;
  int O_TRUNC = 0x200;
  int O_CLOEXEC = 0x80000;
  int F_DUPFD_CLOEXEC = 1030;
  int MSG_TRUNC = 0x20;
  int MSG_NOSIGNAL = 0x4000;
  short POLLIN = 0x1;
  int WNOHANG = 1;
  int EINTR = 4;
  int ECHILD = 10;
  short POSIX_SPAWN_SETSIGMASK = 0x08;

  /** glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336: room to spare. */
  int FILE_ACTIONS_SIZE = 256;

  int SPAWNATTR_SIZE = 512;
  int SIGSET_SIZE = 128;

  int socketpair(int domain, int type, int protocol, int[] fds) throws LastErrorException;

  int open(String path, int flags, int mode) throws LastErrorException;

  int fcntl(int fd, int cmd, int arg) throws LastErrorException;

  int close(int fd);

  long send(int fd, byte[] buf, long len, int flags) throws LastErrorException;

  long recv(int fd, byte[] buf, long len, int flags) throws LastErrorException;

  /** {@code fds} is one struct pollfd: {int fd; short events; short revents}. */
  int poll(Pointer fds, long nfds, int timeoutMillis) throws LastErrorException;

  int waitpid(int pid, IntByReference status, int options) throws LastErrorException;

  // posix_spawn and friends return an error number instead of setting errno.
  int posix_spawn(
      IntByReference pid,
      String path,
      Pointer fileActions,
      Pointer attr,
      String[] argv,
      String[] envp);

  int posix_spawn_file_actions_init(Pointer fileActions);

  int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newFd);

  int posix_spawn_file_actions_addclose(Pointer fileActions, int fd);

  int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

  int posix_spawn_file_actions_destroy(Pointer fileActions);

  int posix_spawnattr_init(Pointer attr);

  int posix_spawnattr_setflags(Pointer attr, short flags);

  int posix_spawnattr_setsigmask(Pointer attr, Pointer sigset);

  int posix_spawnattr_destroy(Pointer attr);
}
