package dev.warmstart.agent.gpumem;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * One request to a shim's control socket: a line, with the payload directory as an open file
 * descriptor (SCM_RIGHTS), since the image store is outside the workload's mount namespace. The
 * JDK's Unix-domain channels cannot pass descriptors, so this goes through libc with JNA (Linux,
 * LP64: x86-64 and arm64 share the layouts below).
 */
final class ShimSocket {
  private static final int AF_UNIX = 1;
  private static final int SOCK_STREAM = 1;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVTIMEO = 20;
  private static final int SO_SNDTIMEO = 21;
  private static final int SCM_RIGHTS = 1;
  private static final int MSG_NOSIGNAL = 0x4000;
  private static final int SUN_PATH_MAX = 108;
  private static final int EAGAIN = 11;

  private interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int socket(int domain, int type, int protocol) throws LastErrorException;

    int connect(int fd, byte[] addr, int len) throws LastErrorException;

    int setsockopt(int fd, int level, int name, Pointer value, int len) throws LastErrorException;

    long sendmsg(int fd, Pointer msg, int flags) throws LastErrorException;

    long recv(int fd, byte[] buf, long len, int flags) throws LastErrorException;

    int open(String path, int flags) throws LastErrorException;

    int close(int fd);
  }

  private ShimSocket() {}

  /** Sends {@code command} (with {@code directory}'s fd) and returns the shim's one-line answer. */
  static ShimReply request(Path socket, String command, Optional<Path> directory, Duration timeout)
      throws IOException {
    byte[] path = socket.toString().getBytes(StandardCharsets.UTF_8);
    if (path.length >= SUN_PATH_MAX) {
      throw new IOException("socket path too long for a Unix socket: " + socket);
    }
    LibC c = LibC.INSTANCE;
    int fd = -1;
    int dirfd = -1;
    try {
      fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      Memory tv = new Memory(16);
      long ms = Math.max(1, timeout.toMillis());
      tv.setLong(0, ms / 1000);
      tv.setLong(8, (ms % 1000) * 1000);
      c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
      c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, tv, 16);
      byte[] addr = new byte[2 + path.length + 1];
      addr[0] = (byte) AF_UNIX;
      System.arraycopy(path, 0, addr, 2, path.length);
      c.connect(fd, addr, addr.length);
      if (directory.isPresent()) {
        dirfd = c.open(directory.get().toString(), O_RDONLY | O_CLOEXEC);
      }
      send(c, fd, (command + "\n").getBytes(StandardCharsets.US_ASCII), dirfd);
      return ShimReply.parse(readLine(c, fd));
    } catch (LastErrorException e) {
      if (e.getErrorCode() == EAGAIN) {
        throw new IOException(
            "the shim at " + socket + " did not answer " + command + " within " + timeout, e);
      }
      throw new IOException("control socket " + socket + ": " + e.getMessage(), e);
    } finally {
      if (dirfd >= 0) {
        c.close(dirfd);
      }
      if (fd >= 0) {
        c.close(fd);
      }
    }
  }

  /** struct msghdr (56 bytes) with one iovec and, if fd >= 0, one SCM_RIGHTS cmsghdr. */
  private static void send(LibC c, int fd, byte[] line, int passFd) {
    Memory data = new Memory(line.length);
    data.write(0, line, 0, line.length);
    Memory iov = new Memory(16);
    iov.setPointer(0, data);
    iov.setLong(8, line.length);
    Memory msg = new Memory(56);
    msg.clear();
    msg.setPointer(16, iov);
    msg.setLong(24, 1);
    Memory control = null;
    if (passFd >= 0) {
      control = new Memory(24); // CMSG_SPACE(sizeof(int))
      control.clear();
      control.setLong(0, 20); // CMSG_LEN(sizeof(int))
      control.setInt(8, SOL_SOCKET);
      control.setInt(12, SCM_RIGHTS);
      control.setInt(16, passFd);
      msg.setPointer(32, control);
      msg.setLong(40, 24);
    }
    c.sendmsg(fd, msg, MSG_NOSIGNAL);
  }

  private static String readLine(LibC c, int fd) {
    StringBuilder out = new StringBuilder();
    byte[] buf = new byte[1024];
    while (out.indexOf("\n") < 0 && out.length() < 8192) {
      long n = c.recv(fd, buf, buf.length, 0);
      if (n <= 0) {
        break;
      }
      out.append(new String(buf, 0, (int) n, StandardCharsets.UTF_8));
    }
    int nl = out.indexOf("\n");
    return nl < 0 ? out.toString() : out.substring(0, nl);
  }
}
