package dev.warmstart.agent.gpu;

import dev.warmstart.agent.cuda.CudaDevice;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The GPUs a container was given, as NVIDIA's device plugin and container toolkit tell it: the
 * NVIDIA_VISIBLE_DEVICES of its init process (UUIDs, or ordinals of this node). A restore into a
 * placeholder pod targets these, so the process lands on the GPUs Kubernetes assigned.
 */
public final class VisibleGpus {
  private final Path proc;

  public VisibleGpus(Path proc) {
    this.proc = proc;
  }

  public VisibleGpus() {
    this(Path.of("/proc"));
  }

  /** UUIDs of the process's visible GPUs; empty when it names none or "all"/"none". */
  public List<String> of(int pid, GpuRuntime gpus) {
    String value = null;
    try {
      byte[] env = Files.readAllBytes(proc.resolve(Integer.toString(pid)).resolve("environ"));
      for (String var : new String(env, StandardCharsets.UTF_8).split("\0")) {
        if (var.startsWith("NVIDIA_VISIBLE_DEVICES=")) {
          value = var.substring(var.indexOf('=') + 1).strip();
        }
      }
    } catch (IOException e) {
      return List.of();
    }
    if (value == null
        || value.isEmpty()
        || value.equals("all")
        || value.equals("none")
        || value.equals("void")) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String item : value.split(",")) {
      String v = item.strip();
      if (v.startsWith("GPU-")) {
        out.add(v);
      } else if (v.matches("\\d+")) {
        int ordinal = Integer.parseInt(v);
        gpus.devices().stream()
            .filter(d -> d.ordinal() == ordinal)
            .map(CudaDevice::uuid)
            .findFirst()
            .ifPresent(out::add);
      }
    }
    return out;
  }
}
