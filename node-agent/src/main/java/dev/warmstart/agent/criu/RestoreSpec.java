package dev.warmstart.agent.criu;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code criu restore -d}.
 *
 * @param root the root filesystem to restore onto (a placeholder container's rootfs)
 * @param inheritFds {@code --inherit-fd fd[N]:key} pairs; each fd N is opened by the launcher from
 *     the path in {@code fdSources}
 * @param fdSources fd number to the path the launcher opens for it ({@code <} read, {@code >}
 *     write, as the {@link RedirectedFd#write()} flag says)
 * @param joinNamespaces values for {@code --join-ns}, e.g. {@code ipc:/proc/9/ns/ipc}
 * @param externals values for {@code --external} at restore (mount key to host path)
 * @param cgroupProcsFiles cgroup.procs files the launcher joins before exec, so the restored tree
 *     inherits the target container's cgroups
 * @param enterPidNamespaceOf run CRIU inside this process's PID namespace, so a dumped PID
 *     namespace is recreated nested inside it
 * @param gpuRemap GPU UUID pairs for the CUDA plugin ("GPU-old=GPU-new,..."), if any
 * @param deferGpu leave the CUDA state checkpointed (a prepared restore, activated later)
 */
public record RestoreSpec(
    Path imageDir,
    Path workDir,
    Path pidFile,
    Optional<Path> root,
    List<String> inheritFds,
    List<RedirectedFd> fdSources,
    List<String> joinNamespaces,
    List<String> externals,
    List<Path> cgroupProcsFiles,
    Optional<Integer> enterPidNamespaceOf,
    Optional<String> gpuRemap,
    boolean deferGpu) {

  /** An fd the launcher opens for CRIU to inherit. */
  public record RedirectedFd(int fd, Path path, boolean write) {}

  public static RestoreSpec onHost(Path imageDir, Path workDir) {
    return new RestoreSpec(
        imageDir,
        workDir,
        workDir.resolve("restore.pid"),
        Optional.empty(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        List.of(),
        Optional.empty(),
        Optional.empty(),
        false);
  }

  /** The same restore with GPU UUID pairs for the plugin, and the GPU step done or deferred. */
  public RestoreSpec withGpu(Optional<String> remap, boolean defer) {
    return new RestoreSpec(
        imageDir,
        workDir,
        pidFile,
        root,
        inheritFds,
        fdSources,
        joinNamespaces,
        externals,
        cgroupProcsFiles,
        enterPidNamespaceOf,
        remap,
        defer);
  }

  public Map<Integer, RedirectedFd> fdsByNumber() {
    return fdSources.stream().collect(java.util.stream.Collectors.toMap(RedirectedFd::fd, f -> f));
  }
}
