package dev.warmstart.agent.hooks;

import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.HttpHook;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Calls a workload's HTTP hook on 127.0.0.1 of the workload's own network namespace, the way a
 * pod's probes see it: a fresh thread joins that namespace (setns) and opens the socket there, so
 * this works for pods, containers without a routable address and host processes alike.
 *
 * <p>The agent is privileged, so a hook is held to what it is for: one request line of printable
 * characters (no CR/LF to smuggle a second request), a status line read up to {@link
 * #MAX_STATUS_LINE} bytes and nothing more (no header or body is read, none is echoed), and only a
 * port that the workload's own process tree listens on ({@link HookPorts}: not the node's local
 * services when the workload shares the host's network, nor a sidecar's).
 */
public final class WorkloadHook {
  /** Longest status line read; RFC 9112 lets a server send more, no hook needs it. */
  static final int MAX_STATUS_LINE = 1024;

  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY_CLOEXEC = 0x80000;
  private static final Pattern PATH = Pattern.compile(HttpHook.PATH_PATTERN);
  private final HookPorts ports = new HookPorts(Path.of("/proc"));

  interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int open(String path, int flags);

    int setns(int fd, int nstype);

    int close(int fd);
  }

  /**
   * Runs the hook against process {@code pid}'s network namespace.
   *
   * @param what "pre-checkpoint" or "post-restore", for messages
   * @throws OperationFailure HookFailed: no answer in time, refused, or a non-2xx status;
   *     InvalidRequest: a path that is not one request line, or a port the workload does not own
   */
  public void call(int pid, HttpHook hook, String what) throws OperationFailure {
    if (hook.path() == null
        || !PATH.matcher(hook.path()).matches()
        || hook.path().length() > 2048) {
      // Quoted as Java would, so a CR/LF in it shows instead of breaking the message.
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          what
              + " hook path "
              + printable(hook.path())
              + " is not valid: '/' then letters, digits and RFC 3986 path/query characters");
    }
    String desc = what + " hook " + hook.method() + " " + hook.path() + " on port " + hook.port();
    ports.requireOwnListener(pid, hook.port(), desc);
    CompletableFuture<Integer> status = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                joinNetworkNamespace(pid);
                status.complete(request(hook));
              } catch (Throwable e) {
                status.completeExceptionally(e);
              }
            },
            "hook-" + pid);
    t.setDaemon(true); // it lives in the workload's namespace: never reused, never waited on
    t.start();
    int code;
    try {
      code = status.get(hook.timeoutSeconds(), TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      t.interrupt();
      throw new OperationFailure(
          ErrorReason.HookFailed, desc + " did not answer within " + hook.timeoutSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new OperationFailure(ErrorReason.Interrupted, desc + " interrupted", e);
    } catch (ExecutionException e) {
      throw new OperationFailure(ErrorReason.HookFailed, desc + " failed: " + e.getCause(), e);
    }
    if (code < 200 || code > 299) {
      throw new OperationFailure(ErrorReason.HookFailed, desc + " answered HTTP " + code);
    }
  }

  private static void joinNetworkNamespace(int pid) throws IOException {
    int fd = LibC.INSTANCE.open("/proc/" + pid + "/ns/net", O_RDONLY_CLOEXEC);
    if (fd < 0) {
      throw new IOException("process " + pid + " has no network namespace to enter (gone?)");
    }
    try {
      if (LibC.INSTANCE.setns(fd, CLONE_NEWNET) != 0) {
        throw new IOException(
            "cannot enter the network namespace of "
                + pid
                + " (errno "
                + Native.getLastError()
                + ")");
      }
    } finally {
      LibC.INSTANCE.close(fd);
    }
  }

  /** One HTTP/1.1 request with no body; returns the status code. */
  private static int request(HttpHook hook) throws IOException {
    int timeoutMs = hook.timeoutSeconds() * 1000;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", hook.port()), timeoutMs);
      s.setSoTimeout(timeoutMs);
      OutputStream out = s.getOutputStream();
      String req =
          hook.method()
              + " "
              + hook.path()
              + " HTTP/1.1\r\nHost: 127.0.0.1:"
              + hook.port()
              + "\r\nUser-Agent: warmstart-agent\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      out.write(req.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String statusLine = statusLine(s.getInputStream());
      String[] parts = statusLine.split(" ", 3);
      if (!statusLine.startsWith("HTTP/") || parts.length < 2 || !parts[1].matches("[0-9]{3}")) {
        throw new IOException("not an HTTP answer: " + printable(statusLine));
      }
      return Integer.parseInt(parts[1]);
    }
  }

  /** The first line of the answer, at most {@link #MAX_STATUS_LINE} bytes; the rest is unread. */
  static String statusLine(InputStream in) throws IOException {
    byte[] line = new byte[MAX_STATUS_LINE];
    int n = 0;
    while (true) {
      int b = in.read();
      if (b < 0 || b == '\n') {
        break;
      }
      if (n == line.length) {
        throw new IOException(
            "the answer's status line is longer than " + MAX_STATUS_LINE + " bytes");
      }
      line[n++] = (byte) b;
    }
    if (n > 0 && line[n - 1] == '\r') {
      n--;
    }
    return new String(line, 0, n, StandardCharsets.US_ASCII);
  }

  private static String printable(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("'");
    for (char c : s.substring(0, Math.min(s.length(), 200)).toCharArray()) {
      b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
    }
    return b.append(s.length() > 200 ? "...'" : "'").toString();
  }
}
