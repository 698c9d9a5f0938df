package dev.warmstart.agent.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real podman container (runtime runc) on a busybox rootfs, with a volume at /data. */
final class PodmanContainer implements TestContainer {
  private final String id;
  private final Path volume;
  private int linesSeen;

  private PodmanContainer(String id, Path volume) {
    this.id = id;
    this.volume = volume;
  }

  static boolean available() {
    return Files.isExecutable(Path.of("/usr/bin/podman")) && RuncContainer.available();
  }

  static PodmanContainer start(Path workDir, String name, List<String> args) throws Exception {
    Path rootfs = RuncContainer.buildRootfs(workDir.resolve(name + "-rootfs"), name);
    Path volume = Files.createDirectories(workDir.resolve(name + "-volume"));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "podman",
                "run",
                "-d",
                "--name",
                name,
                "--runtime",
                "runc",
                "--hostname",
                "warmstart-test",
                "--cap-add",
                "NET_ADMIN",
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=4096:4096",
                "-v",
                volume + ":/data",
                "--rootfs",
                rootfs.toString()));
    cmd.addAll(args);
    String out = RuncContainer.exec(cmd).trim();
    String id = out.lines().reduce((a, b) -> b).orElseThrow();
    return new PodmanContainer(id, volume);
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
    return Integer.parseInt(
        RuncContainer.exec(List.of("podman", "inspect", "-f", "{{.State.Pid}}", id)).trim());
  }

  @Override
  public String awaitLine(String prefix) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      List<String> lines = RuncContainer.exec(List.of("podman", "logs", id)).lines().toList();
      for (int i = linesSeen; i < lines.size(); i++) {
        if (lines.get(i).startsWith(prefix)) {
          linesSeen = i + 1;
          return lines.get(i);
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no '" + prefix + "' line in podman logs " + id);
  }

  @Override
  public String exec(String... cmd) throws Exception {
    List<String> full = new ArrayList<>(List.of("podman", "exec", id));
    full.addAll(List.of(cmd));
    return RuncContainer.exec(full);
  }

  @Override
  public void kill() throws Exception {
    RuncContainer.exec(List.of("podman", "stop", "-t", "1", id));
  }

  @Override
  public void close() throws Exception {
    new ProcessBuilder("podman", "rm", "-f", id)
        .redirectErrorStream(true)
        .start()
        .waitFor(60, TimeUnit.SECONDS);
  }
}
