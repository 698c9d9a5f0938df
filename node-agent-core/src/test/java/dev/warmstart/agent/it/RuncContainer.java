package dev.warmstart.agent.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real runc container on a busybox-static rootfs, with pipes as stdio (as containerd gives
 * containers), a bind-mounted volume at /data and loopback up.
 */
final class RuncContainer implements TestContainer {
  private static final ObjectMapper JSON = new ObjectMapper();
  final String id;
  final Path bundle;
  final Path volume;
  private final Process runc;
  private final boolean overlay;
  final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();

  private RuncContainer(String id, Path bundle, Path volume, Process runc, boolean overlay) {
    this.id = id;
    this.bundle = bundle;
    this.volume = volume;
    this.runc = runc;
    this.overlay = overlay;
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(runc.getInputStream()))) {
                for (String l; (l = r.readLine()) != null; ) {
                  stdout.add(l);
                }
              } catch (IOException e) {
                // pipe closed with the container
              }
            });
    reader.setDaemon(true);
    reader.start();
  }

  static boolean available() {
    return Files.isExecutable(Path.of("/usr/sbin/runc"))
        && Files.isExecutable(Path.of("/bin/busybox"));
  }

  /** Starts a container running {@code args} as its PID 1. */
  static RuncContainer start(Path workDir, String id, List<String> args) throws Exception {
    Path bundle = Files.createDirectories(workDir.resolve(id));
    buildRootfs(bundle.resolve("rootfs"), id);
    return run(
        bundle,
        id,
        args,
        Files.createDirectories(workDir.resolve(id + "-volume")),
        false,
        java.util.Map.of());
  }

  /**
   * Starts a container like {@link #start} that also binds {@code extra} host directories (mount
   * point inside → host directory), e.g. a PersistentVolumeClaim's.
   */
  static RuncContainer startWithMounts(
      Path workDir, String id, List<String> args, java.util.Map<String, Path> extra)
      throws Exception {
    Path bundle = Files.createDirectories(workDir.resolve(id));
    buildRootfs(bundle.resolve("rootfs"), id);
    return run(
        bundle, id, args, Files.createDirectories(workDir.resolve(id + "-volume")), false, extra);
  }

  /**
   * Starts a container whose root filesystem is an overlay of the image directory {@code lower}
   * with a fresh upper directory ({@code <id>-upper}), as containerd's overlayfs snapshotter gives
   * a container, and {@code volume} bound at /data.
   */
  static RuncContainer startOnOverlay(
      Path workDir, String id, List<String> args, Path lower, Path volume) throws Exception {
    Path bundle = Files.createDirectories(workDir.resolve(id));
    Path upper = Files.createDirectories(workDir.resolve(id + "-upper"));
    Path ovlWork = Files.createDirectories(workDir.resolve(id + "-ovlwork"));
    Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
    exec(
        List.of(
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + ovlWork,
            rootfs.toString()));
    try {
      return run(bundle, id, args, Files.createDirectories(volume), true, java.util.Map.of());
    } catch (Exception e) {
      exec(List.of("umount", "-l", rootfs.toString()));
      throw e;
    }
  }

  private static RuncContainer run(
      Path bundle,
      String id,
      List<String> args,
      Path volume,
      boolean overlay,
      java.util.Map<String, Path> extra)
      throws Exception {

    exec(List.of("runc", "spec", "--bundle", bundle.toString()));
    ObjectNode config = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
    ObjectNode process = (ObjectNode) config.get("process");
    process.put("terminal", false);
    ArrayNode argv = process.putArray("args");
    args.forEach(argv::add);
    ((ObjectNode) config.get("root")).put("readonly", false);
    ((ObjectNode) config).put("hostname", "warmstart-test");
    for (String set : List.of("bounding", "effective", "permitted")) {
      ((ArrayNode) process.get("capabilities").get(set)).add("CAP_NET_ADMIN");
    }
    ObjectNode mount = ((ArrayNode) config.get("mounts")).addObject();
    mount.put("destination", "/data").put("type", "bind").put("source", volume.toString());
    mount.putArray("options").add("rbind").add("rw");
    for (var e : extra.entrySet()) {
      ObjectNode m = ((ArrayNode) config.get("mounts")).addObject();
      m.put("destination", e.getKey()).put("type", "bind").put("source", e.getValue().toString());
      m.putArray("options").add("rbind").add("rw");
    }
    JSON.writeValue(bundle.resolve("config.json").toFile(), config);

    // The shell stays alive holding the stdio pipe, as containerd's shim does: Java closes a
    // child's stdout once that child exits, and runc -d exits at once.
    Process runc =
        new ProcessBuilder(
                "sh",
                "-c",
                "runc run -d --bundle \"$1\" \"$2\" && exec sleep 100000",
                "sh",
                bundle.toString(),
                id)
            .redirectErrorStream(true)
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!isRunning(id)) {
      if (!runc.isAlive() || System.nanoTime() > deadline) {
        String out =
            new String(runc.getInputStream().readNBytes(runc.getInputStream().available()));
        runc.destroyForcibly();
        throw new IllegalStateException("runc run " + id + " failed: " + out);
      }
      Thread.sleep(20);
    }
    return new RuncContainer(id, bundle, volume, runc, overlay);
  }

  /** A busybox-static root filesystem with the test app and a page for httpd to serve. */
  static Path buildRootfs(Path rootfs, String id) throws Exception {
    Files.createDirectories(rootfs);
    for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "data", "www", "etc")) {
      Files.createDirectories(rootfs.resolve(d));
    }
    Files.copy(
        Path.of("/bin/busybox"),
        rootfs.resolve("bin/busybox"),
        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
    for (String applet : exec(List.of("/bin/busybox", "--list")).split("\\s+")) {
      Path link = rootfs.resolve("bin").resolve(applet);
      if (!applet.isBlank() && !applet.equals("busybox") && !Files.exists(link)) {
        Files.createSymbolicLink(link, Path.of("busybox")); // relative, valid inside the container
      }
    }
    Files.writeString(rootfs.resolve("www/index.html"), "hello from " + id + "\n");
    Files.copy(TestEnv.workload("app.sh"), rootfs.resolve("app.sh"));
    rootfs.resolve("app.sh").toFile().setExecutable(true);

    return rootfs;
  }

  private static boolean isRunning(String id) {
    try {
      return JSON.readTree(exec(List.of("runc", "state", id)))
          .path("status")
          .asText()
          .equals("running");
    } catch (Exception e) {
      return false;
    }
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public Path volume() {
    return volume;
  }

  @Override
  public int initPid() throws Exception {
    String state = exec(List.of("runc", "state", id));
    return JSON.readTree(state).get("pid").asInt();
  }

  /** Next stdout line matching {@code prefix}, within 20 s. */
  @Override
  public String awaitLine(String prefix) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      String l = stdout.poll(200, TimeUnit.MILLISECONDS);
      if (l != null && l.startsWith(prefix)) {
        return l;
      }
    }
    throw new AssertionError("no '" + prefix + "' line from " + id + " in 20 s");
  }

  @Override
  public String exec(String... cmd) throws Exception {
    List<String> full = new java.util.ArrayList<>(List.of("runc", "exec", id));
    full.addAll(List.of(cmd));
    return exec(full);
  }

  @Override
  public void kill() throws Exception {
    exec(List.of("runc", "kill", id, "KILL"));
  }

  static String exec(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }

  @Override
  public void close() throws Exception {
    new ProcessBuilder("runc", "delete", "-f", id)
        .redirectErrorStream(true)
        .start()
        .waitFor(30, TimeUnit.SECONDS);
    runc.descendants().forEach(ProcessHandle::destroyForcibly);
    runc.destroyForcibly();
    if (overlay) {
      new ProcessBuilder("umount", "-l", bundle.resolve("rootfs").toString())
          .redirectErrorStream(true)
          .start()
          .waitFor(30, TimeUnit.SECONDS);
    }
  }
}
