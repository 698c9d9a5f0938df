package dev.warmstart.agent.cuda;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * NVML, loaded and initialised: what libcuda cannot tell without a context per GPU — the driver's
 * version string, a GPU's memory use, and which processes hold how much of it.
 */
public final class Nvml {
  private static final int SUCCESS = 0;
  private static final int INSUFFICIENT_SIZE = 7;
  private static final int PROCESS_INFO_SIZE = 24;

  private final NvmlLibrary lib;

  private Nvml(NvmlLibrary lib) {
    this.lib = lib;
  }

  /**
   * Loads libnvidia-ml ({@code path}, or the loader's libnvidia-ml.so.1) and runs nvmlInit.
   *
   * @throws UnsatisfiedLinkError there is no NVML
   */
  public static Nvml load(Optional<String> path) throws CudaException {
    NvmlLibrary lib = Native.load(path.orElse("libnvidia-ml.so.1"), NvmlLibrary.class, Map.of());
    Nvml n = new Nvml(lib);
    n.check("nvmlInit", lib.nvmlInit_v2());
    return n;
  }

  /** The kernel driver's version, e.g. "580.159.04". */
  public String driverVersion() throws CudaException {
    byte[] b = new byte[96];
    check("nvmlSystemGetDriverVersion", lib.nvmlSystemGetDriverVersion(b, b.length));
    return CudaDriver.cString(b);
  }

  /** Memory of one GPU, in bytes. */
  public record MemoryInfo(long total, long free, long used) {}

  /** A process holding memory on a GPU (PID in the host's namespace). */
  public record GpuProcess(int pid, long usedBytes) {}

  public MemoryInfo memory(String uuid) throws CudaException {
    Memory m = new Memory(24);
    check("nvmlDeviceGetMemoryInfo", lib.nvmlDeviceGetMemoryInfo(device(uuid), m));
    return new MemoryInfo(m.getLong(0), m.getLong(8), m.getLong(16));
  }

  /** The N of the GPU's device node /dev/nvidiaN. */
  public int minorNumber(String uuid) throws CudaException {
    IntByReference minor = new IntByReference();
    check("nvmlDeviceGetMinorNumber", lib.nvmlDeviceGetMinorNumber(device(uuid), minor));
    return minor.getValue();
  }

  public List<GpuProcess> computeProcesses(String uuid) throws CudaException {
    Pointer dev = device(uuid);
    int capacity = 64;
    while (true) {
      IntByReference count = new IntByReference(capacity);
      Memory infos = new Memory((long) PROCESS_INFO_SIZE * capacity);
      int r = lib.nvmlDeviceGetComputeRunningProcesses_v3(dev, count, infos);
      if (r == INSUFFICIENT_SIZE) {
        capacity = Math.max(count.getValue(), capacity * 2);
        continue;
      }
      check("nvmlDeviceGetComputeRunningProcesses", r);
      List<GpuProcess> out = new ArrayList<>();
      for (int i = 0; i < count.getValue(); i++) {
        long base = (long) PROCESS_INFO_SIZE * i;
        out.add(new GpuProcess(infos.getInt(base), infos.getLong(base + 8)));
      }
      return out;
    }
  }

  private Pointer device(String uuid) throws CudaException {
    PointerByReference dev = new PointerByReference();
    check("nvmlDeviceGetHandleByUUID(" + uuid + ")", lib.nvmlDeviceGetHandleByUUID(uuid, dev));
    return dev.getValue();
  }

  private void check(String call, int result) throws CudaException {
    if (result != SUCCESS) {
      throw new CudaException(call, result, lib.nvmlErrorString(result));
    }
  }
}
