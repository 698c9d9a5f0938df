package dev.warmstart.agent.core;

import dev.warmstart.agent.activation.ActivationService;
import dev.warmstart.agent.checkpoint.CheckpointService;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.CriuSettings;
import dev.warmstart.agent.gpu.FreshDriver;
import dev.warmstart.agent.gpu.GpuProbe;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.MpsDetector;
import dev.warmstart.agent.gpu.OpenDevices;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.restore.RestoreService;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.store.ImageStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The agent's core services, wired the same way for the HTTP agent and the local CLI. */
public record AgentComponents(
    ImageStore store,
    CriuRunner criu,
    GpuRuntime gpus,
    CheckpointService checkpoints,
    RestoreService restores,
    ActivationService activations) {

  public static final List<Path> DEFAULT_RUNC_ROOTS =
      List.of(
          Path.of("/run/runc"),
          Path.of("/run/containerd/runc/k8s.io"),
          Path.of("/run/containerd/runc/default"));

  /**
   * How the core is wired; built with {@link #builder}.
   *
   * @param storeRoot image store directory (0700)
   * @param criuBinary the criu executable
   * @param pluginDir folder with CRIU plugins, if any
   * @param runcStateRoots runc state directories to find containers in
   * @param nodeName the node recorded in the images' manifests
   * @param criuEnvironment extra environment for CRIU and its plugins
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
      Duration criuStopGrace) {

    /** Defaults: no plugin, {@link #DEFAULT_RUNC_ROOTS}, no extra environment, default limits. */
    public static Builder builder(Path storeRoot, Path criuBinary, String nodeName) {
      return new Builder(storeRoot, criuBinary, nodeName);
    }

    /** Builds {@link Settings}; every setting not given keeps its default. */
    public static final class Builder {
      private final Path storeRoot;
      private final Path criuBinary;
      private final String nodeName;
      private Optional<Path> pluginDir = Optional.empty();
      private List<Path> runcStateRoots = DEFAULT_RUNC_ROOTS;
      private Map<String, String> criuEnvironment = Map.of();
      private LayerSettings writableLayer = LayerSettings.DEFAULT;
      private Duration criuStopGrace = CriuSettings.DEFAULT_STOP_GRACE;

      private Builder(Path storeRoot, Path criuBinary, String nodeName) {
        this.storeRoot = storeRoot;
        this.criuBinary = criuBinary;
        this.nodeName = nodeName;
      }

      public Builder pluginDir(Optional<Path> dir) {
        this.pluginDir = dir;
        return this;
      }

      public Builder runcStateRoots(List<Path> roots) {
        this.runcStateRoots = roots;
        return this;
      }

      public Builder criuEnvironment(Map<String, String> env) {
        this.criuEnvironment = env;
        return this;
      }

      public Builder writableLayer(LayerSettings layer) {
        this.writableLayer = layer;
        return this;
      }

      public Builder criuStopGrace(Duration grace) {
        this.criuStopGrace = grace;
        return this;
      }

      public Settings build() {
        return new Settings(
            storeRoot,
            criuBinary,
            pluginDir,
            runcStateRoots,
            nodeName,
            criuEnvironment,
            writableLayer,
            criuStopGrace);
      }
    }
  }

  /** The core without GPU support (CPU workloads; tests). */
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
    FreshDriver freshDriver = new FreshDriver(s.pluginDir(), s.criuEnvironment());
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
            new GpuProbe(gpus, new MpsDetector(), OpenDevices.of(gpus)),
            s.writableLayer(),
            freshDriver),
        new RestoreService(criu, store, procfs, containers, gpus, freshDriver),
        new ActivationService(store, procfs, gpus, freshDriver));
  }
}
