package dev.warmstart.agent.gpu;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.cuda.CudaException;
import dev.warmstart.agent.cuda.CudaProcessState;
import dev.warmstart.agent.cuda.Nvml;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.GpuInfo;
import dev.warmstart.api.agent.GpuProcess;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Looks at a tree's GPU use before it is captured: which processes are CUDA processes and in which
 * state, on which GPUs and with how much memory. Refuses what the driver cannot checkpoint, before
 * anything is frozen.
 */
public final class GpuProbe {
  private final GpuRuntime gpus;
  private final MpsDetector mps;
  private final OpenDevices openDevices;

  public GpuProbe(GpuRuntime gpus, MpsDetector mps, OpenDevices openDevices) {
    this.gpus = gpus;
    this.mps = mps;
    this.openDevices = openDevices;
  }

  /** What the manifest records of the tree's GPUs; empty for a tree with no CUDA process. */
  public Optional<GpuInfo> inspect(List<Integer> tree) throws OperationFailure {
    if (gpus.cuda().isEmpty()) {
      return Optional.empty();
    }
    List<GpuProcess> processes = new ArrayList<>();
    Set<String> uuids = new LinkedHashSet<>();
    Set<String> open = new LinkedHashSet<>();
    long memory = 0;
    boolean memoryKnown = gpus.nvml().isPresent();
    Map<String, Map<Integer, Long>> usage = null;
    for (int pid : tree) {
      Optional<CudaProcessState> state = stateOf(pid);
      if (state.isEmpty()) {
        continue;
      }
      Optional<String> pipe = mps.mpsControlPipe(pid);
      if (pipe.isPresent()) {
        throw new OperationFailure(
            ErrorReason.UnsupportedWorkload,
            "process "
                + pid
                + " is an MPS client (control pipe "
                + pipe.get()
                + "): the CUDA driver cannot checkpoint MPS clients; run the workload without MPS");
      }
      if (state.get() != CudaProcessState.RUNNING) {
        throw new OperationFailure(
            ErrorReason.UnsupportedWorkload,
            "process "
                + pid
                + " is in CUDA state "
                + state.get()
                + ", not RUNNING: another checkpoint tool holds it, or it failed one");
      }
      if (usage == null) {
        usage = memoryByDevice(); // once per checkpoint, and only for trees that use CUDA
      }
      List<String> on = new ArrayList<>();
      long bytes = 0;
      for (CudaDevice d : gpus.devices()) {
        Long used = usage.getOrDefault(d.uuid(), Map.of()).get(pid);
        if (used != null) {
          on.add(d.uuid());
          bytes += Math.max(0, used);
        }
      }
      uuids.addAll(on);
      open.addAll(openDevicesOf(pid));
      memory += bytes;
      processes.add(new GpuProcess(pid, state.get().name(), memoryKnown ? bytes : null, on));
    }
    if (processes.isEmpty()) {
      return Optional.empty();
    }
    String model =
        uuids.stream()
            .findFirst()
            .flatMap(gpus::device)
            .or(() -> gpus.devices().stream().findFirst())
            .map(CudaDevice::name)
            .orElse(null);
    return Optional.of(
        new GpuInfo(
                model,
                List.copyOf(uuids),
                gpus.driverVersion(),
                memoryKnown ? memory : null,
                processes)
            .withDeviceUuids(open.isEmpty() ? null : List.copyOf(open)));
  }

  private Set<String> openDevicesOf(int pid) {
    try {
      return openDevices.of(pid);
    } catch (IOException e) {
      return Set.of(); // unknown: a remap then names only the GPUs the process used
    }
  }

  private Optional<CudaProcessState> stateOf(int pid) throws OperationFailure {
    try {
      return gpus.cuda().orElseThrow().processState(pid);
    } catch (CudaException e) {
      throw new OperationFailure(
          ErrorReason.GpuCheckpointFailed,
          "cannot read the CUDA state of process " + pid + ": " + e.getMessage(),
          e);
    }
  }

  /**
   * GPU memory per process on each GPU (UUID to PID to bytes), as NVML reports it; empty for a GPU
   * NVML cannot answer for, or all of them when NVML is away.
   */
  private Map<String, Map<Integer, Long>> memoryByDevice() {
    Map<String, Map<Integer, Long>> out = new HashMap<>();
    if (gpus.nvml().isEmpty()) {
      return out;
    }
    Nvml nvml = gpus.nvml().get();
    for (CudaDevice d : gpus.devices()) {
      try {
        Map<Integer, Long> byPid = new HashMap<>();
        for (Nvml.GpuProcess p : nvml.computeProcesses(d.uuid())) {
          byPid.putIfAbsent(p.pid(), p.usedBytes());
        }
        out.put(d.uuid(), byPid);
      } catch (CudaException e) {
        // this GPU's use stays unknown
      }
    }
    return out;
  }
}
