package dev.warmstart.agent.gpu;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.cuda.CudaDriver.GpuPair;
import dev.warmstart.agent.cuda.CudaException;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.GpuInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Decides, before anything is touched, whether an image's GPU state can come back on this node's
 * GPUs: same model, a driver no older than the one that took it, enough free memory. Picks the
 * target GPUs (those asked for, else the same UUIDs, else GPUs of the same model in order) and
 * returns the UUID pairs the driver needs to remap onto them.
 */
public final class GpuCompatibility {
  private final NodeGpus gpus;

  public GpuCompatibility(NodeGpus gpus) {
    this.gpus = gpus;
  }

  /**
   * gpuRemap: SameGpu. Refuses a restore (or activation) whose target GPUs are not the very GPUs of
   * the checkpoint, i.e. one that would need {@code remap}.
   */
  public static void requireSameGpus(List<GpuPair> remap) throws OperationFailure {
    if (remap.stream().anyMatch(GpuPair::moves)) {
      throw new OperationFailure(
          ErrorReason.IncompatibleGpu,
          "gpuRemap is SameGpu but the restore target's GPUs are not the checkpoint's ("
              + remap.stream()
                  .filter(GpuPair::moves)
                  .map(p -> p.from() + " -> " + p.to())
                  .collect(Collectors.joining(", "))
              + "): restore on the checkpoint's GPUs, or use gpuRemap: Auto");
    }
  }

  /**
   * @param image the image's GPU record (null: no CUDA state, nothing to check)
   * @param requested target GPU UUIDs (a placeholder pod's), or empty to choose here
   * @return the driver's remap pairs, every checkpointed GPU named; empty when nothing moves
   */
  public List<GpuPair> check(GpuInfo image, List<String> requested) throws OperationFailure {
    if (image == null || image.processes() == null || image.processes().isEmpty()) {
      return List.of();
    }
    if (!gpus.available()) {
      throw refuse(
          "the image holds CUDA state but this node has no usable GPU: "
              + gpus.unavailableReason());
    }
    List<String> sources = image.uuids() == null ? List.of() : image.uuids();
    List<CudaDevice> targets = targets(sources, requested == null ? List.of() : requested, image);
    if (image.driverVersion() != null
        && gpus.driverVersion() != null
        && compareVersions(gpus.driverVersion(), image.driverVersion()) < 0) {
      throw refuse(
          "this node's driver "
              + gpus.driverVersion()
              + " is older than the checkpoint's "
              + image.driverVersion());
    }
    checkMemory(image, sources, targets);
    List<String> chosen = targets.stream().map(CudaDevice::uuid).toList();
    List<String> extras =
        image.deviceUuids() == null
            ? List.of()
            : image.deviceUuids().stream().filter(u -> !sources.contains(u)).toList();
    List<String> pool =
        requested == null || requested.isEmpty()
            ? gpus.devices().stream()
                .filter(d -> image.model() == null || image.model().equals(d.name()))
                .map(CudaDevice::uuid)
                .toList()
            : requested;
    return completeMap(sources, chosen, extras, pool);
  }

  /**
   * The map the driver gets: each used GPU onto its chosen target and every other GPU the process
   * had open onto a free GPU of {@code pool} (itself where it is free), because the driver refuses
   * a map that leaves out a GPU it checkpointed. Empty when nothing moves.
   */
  static List<GpuPair> completeMap(
      List<String> sources, List<String> targets, List<String> extras, List<String> pool)
      throws OperationFailure {
    List<GpuPair> pairs = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      pairs.add(new GpuPair(sources.get(i), targets.get(i)));
    }
    List<String> free = new ArrayList<>(pool);
    free.removeAll(targets);
    List<String> moving = new ArrayList<>();
    for (String extra : extras) {
      if (free.remove(extra)) {
        pairs.add(new GpuPair(extra, extra));
      } else {
        moving.add(extra);
      }
    }
    if (moving.size() > free.size()) {
      throw refuse(
          "the checkpointed processes held "
              + String.join(", ", moving)
              + " open besides the GPUs they used, and the driver must place every GPU it"
              + " checkpointed, but the restore target has "
              + free.size()
              + " more GPU(s) for them: give it as many GPUs as the workload had");
    }
    for (int i = 0; i < moving.size(); i++) {
      pairs.add(new GpuPair(moving.get(i), free.get(i)));
    }
    return pairs.stream().anyMatch(GpuPair::moves) ? List.copyOf(pairs) : List.of();
  }

  private List<CudaDevice> targets(List<String> sources, List<String> requested, GpuInfo image)
      throws OperationFailure {
    List<CudaDevice> out = new ArrayList<>();
    if (!requested.isEmpty()) {
      if (requested.size() < sources.size()) {
        throw refuse(
            "the checkpoint used "
                + sources.size()
                + " GPU(s) but the restore target has "
                + requested.size());
      }
      for (String uuid : requested.subList(0, sources.size())) {
        out.add(
            gpus.device(uuid).orElseThrow(() -> refuse("GPU " + uuid + " is not on this node")));
      }
    } else if (sources.stream().allMatch(u -> gpus.device(u).isPresent())) {
      for (String uuid : sources) {
        out.add(gpus.device(uuid).orElseThrow());
      }
    } else {
      List<CudaDevice> sameModel =
          gpus.devices().stream().filter(d -> Objects.equals(d.name(), image.model())).toList();
      if (sameModel.size() < sources.size()) {
        throw refuse(
            "the checkpoint needs "
                + sources.size()
                + " "
                + image.model()
                + " GPU(s); this node has "
                + describe(gpus.devices()));
      }
      out.addAll(sameModel.subList(0, sources.size()));
    }
    for (CudaDevice d : out) {
      if (image.model() != null && !image.model().equals(d.name())) {
        throw refuse(
            "the checkpoint was taken on "
                + image.model()
                + " but GPU "
                + d.uuid()
                + " is "
                + d.name());
      }
    }
    return out;
  }

  private void checkMemory(GpuInfo image, List<String> sources, List<CudaDevice> targets)
      throws OperationFailure {
    if (image.processes() == null) {
      return;
    }
    for (int i = 0; i < sources.size(); i++) {
      String source = sources.get(i);
      long need =
          image.processes().stream()
              .filter(p -> p.uuids() != null && p.uuids().contains(source))
              .mapToLong(p -> p.memoryBytes() == null ? 0 : p.memoryBytes() / p.uuids().size())
              .sum();
      try {
        OptionalLong measured = gpus.freeMemory(targets.get(i).uuid());
        if (measured.isEmpty()) {
          return; // not measurable here: the driver's own restore reports an out-of-memory
        }
        long free = measured.getAsLong();
        if (free < need) {
          throw refuse(
              "GPU "
                  + targets.get(i).uuid()
                  + " has "
                  + mib(free)
                  + " free; the checkpoint needs "
                  + mib(need));
        }
      } catch (CudaException e) {
        throw refuse("cannot read free memory of GPU " + targets.get(i).uuid() + ": " + e);
      }
    }
  }

  /** Compares dotted numeric versions ("580.159.04"). */
  static int compareVersions(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int c = Long.compare(part(x, i), part(y, i));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  private static long part(String[] parts, int i) {
    if (i >= parts.length) {
      return 0;
    }
    try {
      return Long.parseLong(parts[i].replaceAll("\\D.*", ""));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static String describe(List<CudaDevice> devices) {
    return devices.isEmpty()
        ? "none"
        : devices.stream().map(CudaDevice::name).collect(Collectors.joining(", "));
  }

  private static String mib(long bytes) {
    return (bytes >> 20) + " MiB";
  }

  private static OperationFailure refuse(String message) {
    return new OperationFailure(ErrorReason.IncompatibleGpu, message);
  }
}
