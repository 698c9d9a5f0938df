package dev.warmstart.operator.agent;

import dev.warmstart.api.agent.GpuInfo;
import dev.warmstart.api.agent.GpuProcess;
import dev.warmstart.api.agent.HttpHook;
import dev.warmstart.api.agent.HttpMethod;
import dev.warmstart.api.agent.RestoreStage;
import dev.warmstart.api.v1alpha1.StandbyMode;

/**
 * The one place where the CRD's types (v1alpha1, changing with the CRD) meet the agent protocol's
 * (versioned on their own, lasting as long as images and agents): each direction mapped once, so
 * neither format depends on the other.
 */
public final class ProtocolMapping {
  private ProtocolMapping() {}

  /**
   * How far a GpuRestore (its {@code standby}) or a pool's standbys (its {@code tier}) go: None
   * runs, Warm stops after CRIU, Hot also brings the GPU memory back, locked.
   */
  public static RestoreStage stage(StandbyMode mode) {
    return switch (mode) {
      case None -> RestoreStage.RUNNING;
      case Warm -> RestoreStage.PROCESSES;
      case Hot -> RestoreStage.GPU_LOCKED;
    };
  }

  /** A workload hook of a CR, for the agent; null stays null. */
  public static HttpHook hook(dev.warmstart.api.v1alpha1.HttpHook h) {
    return h == null
        ? null
        : new HttpHook(
            HttpMethod.valueOf(h.method().name()), h.path(), h.port(), h.timeoutSeconds());
  }

  /** The GPUs an agent recorded for an image, for the checkpoint's status; null stays null. */
  public static dev.warmstart.api.v1alpha1.GpuInfo gpu(GpuInfo g) {
    return g == null
        ? null
        : new dev.warmstart.api.v1alpha1.GpuInfo(
            g.model(),
            g.uuids(),
            g.driverVersion(),
            g.memoryBytes(),
            g.processes() == null
                ? null
                : g.processes().stream().map(ProtocolMapping::process).toList(),
            g.managedMemoryBytes(),
            g.deviceUuids());
  }

  private static dev.warmstart.api.v1alpha1.GpuProcess process(GpuProcess p) {
    return new dev.warmstart.api.v1alpha1.GpuProcess(
        p.pid(), p.cudaState(), p.memoryBytes(), p.uuids());
  }
}
