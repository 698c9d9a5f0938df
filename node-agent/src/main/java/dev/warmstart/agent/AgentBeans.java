package dev.warmstart.agent;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.gpu.GpuRuntime;
import dev.warmstart.agent.gpu.GpuSettings;
import dev.warmstart.agent.gpu.WarmContextPool;
import dev.warmstart.agent.operation.HugePages;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.store.ImageStore;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/** Wires the agent's core (plain classes, shared with the CLI) into Quarkus. */
public class AgentBeans {
  private static final Logger LOG = Logger.getLogger(AgentBeans.class);

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
        AgentComponents.Settings.builder(config.storeRoot(), config.criuBinary(), config.nodeName())
            .pluginDir(config.pluginDir())
            .runcStateRoots(config.runcStateRoots())
            .criuEnvironment(criuEnv)
            .writableLayer(
                new LayerSettings(
                    config.writableLayer().maxBytes(),
                    config.writableLayer().exclude().orElse(List.of())))
            .build(),
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
  HugePages hugePages(AgentConfig config) {
    HugePages thp =
        new HugePages(config.thp(), config.thpSysfs(), config.journalDir().resolve("thp-original"));
    try {
      thp.recover();
    } catch (IOException | RuntimeException e) {
      // A THP switch that cannot be written is a lost tuning, not a reason to refuse operations.
      LOG.warnf("could not put back the THP policy an earlier run changed: %s", e.getMessage());
    }
    return thp;
  }

  /** Threads for operations only, {@code workers} of them; waiting operations hold none. */
  @Produces
  @Singleton
  @Named("operations")
  ExecutorService operationExecutor(AgentConfig config) {
    if (config.workers() < 1 || config.maxOperations() < 1) {
      throw new IllegalArgumentException("warmstart.agent.workers and max-operations must be >= 1");
    }
    AtomicInteger n = new AtomicInteger();
    return new ThreadPoolExecutor(
        config.workers(),
        config.workers(),
        60,
        TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), // bounded by OperationService's capacity
        r -> {
          Thread t = new Thread(r, "operation-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  void stopOperationExecutor(@Disposes @Named("operations") ExecutorService executor) {
    executor.shutdownNow();
  }

  @Produces
  @Singleton
  OperationService operations(
      AgentComponents components,
      AgentConfig config,
      @Named("operations") ExecutorService executor,
      Clock clock,
      HugePages hugePages)
      throws IOException {
    OperationService ops =
        OperationService.builder(components, new OperationJournal(config.journalDir()), executor)
            .clock(clock)
            .nodeName(config.nodeName())
            .hugePages(hugePages)
            .capacity(config.maxOperations())
            .start();
    ops.recovered().forEach(r -> LOG.infof("recovered operation %s", r));
    return ops;
  }

  /**
   * Recovery runs when the agent starts, not when the first API call happens to create the service:
   * a workload an interrupted dump left stopped must not wait for the operator to call.
   */
  void recoverAtStart(@Observes StartupEvent start, OperationService operations) {
    LOG.infof(
        "operation service ready (%d operation(s) known, %d journal entr(ies) quarantined)",
        operations.list().size(), operations.quarantined().size());
  }
}
