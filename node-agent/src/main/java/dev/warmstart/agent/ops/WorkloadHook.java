package dev.warmstart.agent.ops;

import com.sun.jna.Library;
import com.sun.jna.Native;
import dev.warmstart.agent.criu.CriuFailure;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Calls a workload's HTTP hook on 127.0.0.1 of the workload's own network namespace, the way a
 * pod's probes see it: a fresh thread joins that namespace (setns) and opens the socket there, so
 * this works for pods, containers without a routable address and host processes alike.
 */
public final class WorkloadHook {
  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY_CLOEXEC = 0x80000;

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
   * @throws CriuFailure HookFailed: no answer in time, refused, or a non-2xx status
   */
  public void call(int pid, HttpHook hook, String what) throws CriuFailure {
    String desc = what + " hook " + hook.method() + " " + hook.path() + " on port " + hook.port();
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
      throw new CriuFailure(
          ErrorReason.HookFailed, desc + " did not answer within " + hook.timeoutSeconds() + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuFailure(ErrorReason.Interrupted, desc + " interrupted", e);
    } catch (ExecutionException e) {
      throw new CriuFailure(ErrorReason.HookFailed, desc + " failed: " + e.getCause(), e);
    }
    if (code < 200 || code > 299) {
      throw new CriuFailure(ErrorReason.HookFailed, desc + " answered HTTP " + code);
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
      String statusLine =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      if (statusLine == null || !statusLine.startsWith("HTTP/")) {
        throw new IOException("not an HTTP answer: " + statusLine);
      }
      String[] parts = statusLine.split(" ", 3);
      return Integer.parseInt(parts[1]);
    }
  }
}
