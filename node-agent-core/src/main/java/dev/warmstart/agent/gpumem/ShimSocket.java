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
import java.util.ArrayList;
import java.util.List;

/**
 * One request to a shim's control socket: a line, with the payload's files as open file descriptors
 * (SCM_RIGHTS), since the image store is outside the workload's mount namespace. Files, never their
 * directory: a directory descriptor would let the workload walk the node's image store through
 * "..". The JDK's Unix-domain channels cannot pass descriptors, so this goes through libc with JNA
 * (Linux, LP64: x86-64 and arm64 share the flags and layouts below).
 */
final class ShimSocket {
  private static final int AF_UNIX = 1;
  private static final int SOCK_STREAM = 1;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int O_RDONLY = 0;
  private static final int O_RDWR = 2;
  private static final int O_CREAT = 0100;
  private static final int O_TRUNC = 01000;
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

    int open(String path, int flags, int mode) throws LastErrorException;

    int close(int fd);
  }

  private ShimSocket() {}

  /**
   * Sends {@code command} with {@code files} opened (created and truncated when {@code writable})
   * and returns the shim's one-line answer.
   */
  static ShimReply request(
      Path socket, String command, List<Path> files, boolean writable, Duration timeout)
      throws IOException {
    byte[] path = socket.toString().getBytes(StandardCharsets.UTF_8);
    if (path.length >= SUN_PATH_MAX) {
      throw new IOException("socket path too long for a Unix socket: " + socket);
    }
    LibC c = LibC.INSTANCE;
    int fd = -1;
    List<Integer> passed = new ArrayList<>();
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
      for (Path f : files) {
        try {
          passed.add(
              c.open(
                  f.toString(),
                  (writable ? O_RDWR | O_CREAT | O_TRUNC : O_RDONLY) | O_CLOEXEC,
                  0600));
        } catch (LastErrorException e) {
          throw new IOException("cannot open " + f + ": " + e.getMessage(), e);
        }
      }
      send(c, fd, (command + "\n").getBytes(StandardCharsets.US_ASCII), passed);
      return ShimReply.parse(readLine(c, fd));
    } catch (LastErrorException e) {
      if (e.getErrorCode() == EAGAIN) {
        throw new IOException(
            "the shim at " + socket + " did not answer " + command + " within " + timeout, e);
      }
      throw new IOException("control socket " + socket + ": " + e.getMessage(), e);
    } finally {
      passed.forEach(c::close);
      if (fd >= 0) {
        c.close(fd);
      }
    }
  }

  /** struct msghdr (56 bytes) with one iovec and, if there are fds, one SCM_RIGHTS cmsghdr. */
  private static void send(LibC c, int fd, byte[] line, List<Integer> fds) {
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
    if (!fds.isEmpty()) {
      long len = 16 + 4L * fds.size(); // CMSG_LEN(n * sizeof(int))
      long space = (len + 7) & ~7L; // CMSG_SPACE
      control = new Memory(space);
      control.clear();
      control.setLong(0, len);
      control.setInt(8, SOL_SOCKET);
      control.setInt(12, SCM_RIGHTS);
      for (int i = 0; i < fds.size(); i++) {
        control.setInt(16 + 4L * i, fds.get(i));
      }
      msg.setPointer(32, control);
      msg.setLong(40, space);
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
