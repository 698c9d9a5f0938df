package dev.warmstart.agent.criu;

import dev.warmstart.api.agent.RestoreStage;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One CRIU restore (detached: the restored tree outlives CRIU). Options keep the criu CLI's
 * spelling; CriuRequests turns them into RPC fields.
 *
 * @param root the root filesystem to restore onto (a placeholder container's rootfs)
 * @param inheritFds {@code fd[N]:key} pairs (CRIU's inherit-fd); each fd N is opened by the agent
 *     from the path in {@code fdSources} and given to CRIU at that number
 * @param fdSources fd number to the path the agent opens for it (for reading, or for writing as the
 *     {@link RedirectedFd#write()} flag says)
 * @param joinNamespaces namespaces to join, {@code ns:file}, e.g. {@code ipc:/proc/9/ns/ipc}
 * @param externals CRIU's external objects at restore (mount key to host path)
 * @param cgroupProcsFiles cgroup.procs files CRIU's launcher joins before exec, so the restored
 *     tree inherits the target container's cgroups
 * @param enterPidNamespaceOf run CRIU inside this process's PID namespace, so a dumped PID
 *     namespace is recreated nested inside it
 * @param gpuRemap GPU UUID pairs for the CUDA plugin ("GPU-old=GPU-new,..."), if any
 * @param stage how far the restore goes, for the CUDA plugin: short of RUNNING it leaves the CUDA
 *     state checkpointed (the agent restores GPU_LOCKED's GPU memory itself, then an activation
 *     finishes)
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
    RestoreStage stage) {

  /** An fd the agent opens for CRIU to inherit. */
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
        RestoreStage.RUNNING);
  }

  /** The same restore with GPU UUID pairs for the plugin, going as far as {@code stage}. */
  public RestoreSpec withGpu(Optional<String> remap, RestoreStage stage) {
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
        stage);
  }
}
