package dev.warmstart.agent.proc;

import java.nio.file.Path;
import java.util.List;

/**
 * A running container as its OCI runtime (runc, also under containerd and CRI-O) records it.
 *
 * @param initPid host PID of the container's first process
 * @param rootfs host path of its root filesystem
 * @param mounts its mounts (destination inside, source on the host)
 */
public record ContainerRef(String id, int initPid, Path rootfs, List<MountSpec> mounts) {

  /** One OCI mount. */
  public record MountSpec(String source, String destination, String device) {}

  /** Host source of the bind mount at {@code destination}, if the container has one. */
  public java.util.Optional<String> sourceOf(String destination) {
    return mounts.stream()
        .filter(m -> m.destination().equals(destination))
        .filter(m -> "bind".equals(m.device()) || m.source().startsWith("/"))
        .map(MountSpec::source)
        .reduce((a, b) -> b);
  }
}
