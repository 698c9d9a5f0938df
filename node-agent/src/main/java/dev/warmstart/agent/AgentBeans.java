package dev.warmstart.agent;

import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.GpuSettings;
import dev.warmstart.agent.gpu.WarmContextPool;
import dev.warmstart.agent.ops.AgentComponents;
import dev.warmstart.agent.ops.HugePages;
import dev.warmstart.agent.ops.OperationJournal;
import dev.warmstart.agent.ops.OperationService;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.store.ImageStore;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;

/** Wires the agent's core (plain classes, shared with the CLI) into Quarkus. */
public class AgentBeans {

  @Produces
  @Singleton
  Clock clock() {
    return Clock.systemUTC();
  }

  @Produces
  @Singleton
  GpuRuntime gpus(AgentConfig config) {
    return GpuRuntime.detect(gpuSettings(config));
  }

  @Produces
  @Singleton
  WarmContextPool warmPool(GpuRuntime gpus, AgentConfig config) {
    return WarmContextPool.start(gpus, gpuSettings(config));
  }

  void releaseWarmPool(@Disposes WarmContextPool pool) {
    pool.close();
  }

  @Produces
  @Singleton
  AgentComponents components(AgentConfig config, Clock clock, GpuRuntime gpus) throws IOException {
    ImageStore.warmUpDigests();
    Map<String, String> criuEnv = new HashMap<>();
    config.libcuda().ifPresent(p -> criuEnv.put("WARMSTART_LIBCUDA", p.toString()));
    return AgentComponents.create(
        new AgentComponents.Settings(
            config.storeRoot(),
            config.criuBinary(),
            config.pluginDir(),
            config.runcStateRoots(),
            config.nodeName(),
            criuEnv,
            new LayerSettings(
                config.writableLayer().maxBytes(),
                config.writableLayer().exclude().orElse(List.of()))),
        clock,
        gpus);
  }

  static GpuSettings gpuSettings(AgentConfig config) {
    return new GpuSettings(
        config.gpu().enabled(),
        config.libcuda().map(Path::toString),
        config.gpu().nvml().map(Path::toString),
        config.gpu().warmPool(),
        config.gpu().devices().orElse(List.of()));
  }

  @Produces
  @Singleton
  HugePages hugePages(AgentConfig config) throws IOException {
    HugePages thp =
        new HugePages(config.thp(), config.thpSysfs(), config.journalDir().resolve("thp-original"));
    thp.recover();
    return thp;
  }

  @Produces
  @Singleton
  OperationService operations(
      AgentComponents components,
      AgentConfig config,
      ExecutorService executor,
      Clock clock,
      HugePages hugePages)
      throws IOException {
    return new OperationService(
        components,
        new OperationJournal(config.journalDir()),
        executor,
        clock,
        config.nodeName(),
        new Procfs(),
        hugePages);
  }
}
