package dev.warmstart.agent.cuda;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;

/** The NVML functions the agent calls, as declared in nvml.h. */
public interface NvmlLibrary extends Library {
  int nvmlInit_v2();

  int nvmlShutdown();

  String nvmlErrorString(int result);

  int nvmlSystemGetDriverVersion(byte[] version, int length);

  int nvmlDeviceGetHandleByUUID(String uuid, PointerByReference device);

  /** The N of the GPU's /dev/nvidiaN. */
  int nvmlDeviceGetMinorNumber(Pointer device, IntByReference minor);

  /** nvmlMemory_t: unsigned long long total, free, used. */
  int nvmlDeviceGetMemoryInfo(Pointer device, Pointer memory);

  /** nvmlProcessInfo_t (v2/v3 layout): uint pid, ull usedGpuMemory, uint gpu/compute instance. */
  int nvmlDeviceGetComputeRunningProcesses_v3(Pointer device, IntByReference count, Pointer infos);
}
