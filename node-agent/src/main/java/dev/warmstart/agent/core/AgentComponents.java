package dev.warmstart.agent.core;

import dev.warmstart.agent.checkpoint.CheckpointService;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.CriuSettings;
import dev.warmstart.agent.gpu.FreshDriver;
import dev.warmstart.agent.gpu.GpuProbe;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.MpsDetector;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.restore.RestoreService;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.store.ImageStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The agent's core services, wired the same way for the HTTP agent and the local CLI. */
public record AgentComponents(
    ImageStore store,
    CriuRunner criu,
    GpuRuntime gpus,
    CheckpointService checkpoints,
    RestoreService restores) {

  /**
   * @param storeRoot image store directory (0700)
   * @param criuBinary the criu executable
   * @param pluginDir folder with CRIU plugins, if any
   * @param runcStateRoots runc state directories to find containers in
   * @param writableLayer what of a container's writable layer a checkpoint captures
   * @param criuStopGrace how long a CRIU asked to stop may take before it is killed
   */
  public record Settings(
      Path storeRoot,
      Path criuBinary,
      Optional<Path> pluginDir,
      List<Path> runcStateRoots,
      String nodeName,
      Map<String, String> criuEnvironment,
      LayerSettings writableLayer,
      java.time.Duration criuStopGrace) {

    public Settings(
        Path storeRoot,
        Path criuBinary,
        Optional<Path> pluginDir,
        List<Path> runcStateRoots,
        String nodeName,
        Map<String, String> criuEnvironment) {
      this(
          storeRoot,
          criuBinary,
          pluginDir,
          runcStateRoots,
          nodeName,
          criuEnvironment,
          LayerSettings.DEFAULT,
          CriuSettings.DEFAULT_STOP_GRACE);
    }

    public Settings(
        Path storeRoot,
        Path criuBinary,
        Optional<Path> pluginDir,
        List<Path> runcStateRoots,
        String nodeName) {
      this(storeRoot, criuBinary, pluginDir, runcStateRoots, nodeName, Map.of());
    }
  }

  public static AgentComponents create(Settings s, Clock clock) throws IOException {
    return create(s, clock, GpuRuntime.none("no GPU support requested"));
  }

  public static AgentComponents create(Settings s, Clock clock, GpuRuntime gpus)
      throws IOException {
    ImageStore store = new ImageStore(s.storeRoot());
    CriuRunner criu =
        new CriuRunner(
            new CriuSettings(
                s.criuBinary(), s.pluginDir(), s.criuEnvironment(), s.criuStopGrace()));
    Procfs procfs = new Procfs();
    ContainerLocator containers = new ContainerLocator(s.runcStateRoots());
    return new AgentComponents(
        store,
        criu,
        gpus,
        new CheckpointService(
            criu,
            store,
            procfs,
            containers,
            clock,
            s.nodeName(),
            new GpuProbe(gpus, new MpsDetector()),
            s.writableLayer(),
            new FreshDriver(s.pluginDir(), s.criuEnvironment())),
        new RestoreService(
            criu,
            store,
            procfs,
            containers,
            gpus,
            new FreshDriver(s.pluginDir(), s.criuEnvironment())));
  }

  public static final List<Path> DEFAULT_RUNC_ROOTS =
      List.of(
          Path.of("/run/runc"),
          Path.of("/run/containerd/runc/k8s.io"),
          Path.of("/run/containerd/runc/default"));
}
