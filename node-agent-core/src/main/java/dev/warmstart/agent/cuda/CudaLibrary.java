package dev.warmstart.agent.cuda;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/** The libcuda functions the agent calls, as declared in cuda.h (driver 580). */
public interface CudaLibrary extends Library {
  int cuInit(int flags);

  int cuDriverGetVersion(IntByReference version);

  int cuGetErrorString(int error, PointerByReference text);

  int cuDeviceGetCount(IntByReference count);

  int cuDeviceGet(IntByReference device, int ordinal);

  int cuDeviceGetName(byte[] name, int length, int device);

  int cuDeviceGetUuid_v2(byte[] uuid, int device);

  int cuDeviceTotalMem_v2(LongByReference bytes, int device);

  int cuDevicePrimaryCtxRetain(PointerByReference context, int device);

  int cuDevicePrimaryCtxRelease_v2(int device);

  int cuCtxSetCurrent(Pointer context);

  int cuMemGetInfo_v2(LongByReference free, LongByReference total);

  int cuCheckpointProcessGetRestoreThreadId(int pid, IntByReference tid);

  int cuCheckpointProcessGetState(int pid, IntByReference state);
}
