package dev.warmstart.agent.cuda;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * libcuda, loaded and initialised: every call checked, errors carried as {@link CudaException} with
 * the driver's error string. The checkpoint calls act on other processes by PID.
 */
public final class CudaDriver {
  private static final int SUCCESS = 0;

  private final CudaLibrary lib;
  private final int version;

  private CudaDriver(CudaLibrary lib, int version) {
    this.lib = lib;
    this.version = version;
  }

  /**
   * Loads libcuda ({@code path}, or the loader's libcuda.so.1) and runs cuInit.
   *
   * @throws CudaException cuInit failed (e.g. no device)
   * @throws UnsatisfiedLinkError there is no libcuda
   */
  public static CudaDriver load(Optional<String> path) throws CudaException {
    CudaLibrary lib = Native.load(path.orElse("libcuda.so.1"), CudaLibrary.class, Map.of());
    CudaDriver d = new CudaDriver(lib, 0);
    d.check("cuInit", lib.cuInit(0));
    IntByReference v = new IntByReference();
    d.check("cuDriverGetVersion", lib.cuDriverGetVersion(v));
    return new CudaDriver(lib, v.getValue());
  }

  /** CUDA driver API version, e.g. 13000 for CUDA 13.0. */
  public int apiVersion() {
    return version;
  }

  public List<CudaDevice> devices() throws CudaException {
    IntByReference count = new IntByReference();
    check("cuDeviceGetCount", lib.cuDeviceGetCount(count));
    List<CudaDevice> out = new ArrayList<>();
    for (int i = 0; i < count.getValue(); i++) {
      IntByReference dev = new IntByReference();
      check("cuDeviceGet", lib.cuDeviceGet(dev, i));
      byte[] name = new byte[256];
      check("cuDeviceGetName", lib.cuDeviceGetName(name, name.length, dev.getValue()));
      byte[] uuid = new byte[16];
      check("cuDeviceGetUuid_v2", lib.cuDeviceGetUuid_v2(uuid, dev.getValue()));
      LongByReference total = new LongByReference();
      check("cuDeviceTotalMem_v2", lib.cuDeviceTotalMem_v2(total, dev.getValue()));
      out.add(new CudaDevice(dev.getValue(), uuidString(uuid), cString(name), total.getValue()));
    }
    return out;
  }

  /** Retains the device's primary context (creating it: the slow part of a CUDA start). */
  public Pointer retainPrimaryContext(int device) throws CudaException {
    PointerByReference ctx = new PointerByReference();
    check("cuDevicePrimaryCtxRetain", lib.cuDevicePrimaryCtxRetain(ctx, device));
    return ctx.getValue();
  }

  public void releasePrimaryContext(int device) throws CudaException {
    check("cuDevicePrimaryCtxRelease", lib.cuDevicePrimaryCtxRelease_v2(device));
  }

  /** Free and total bytes of the context's device, as {@code [free, total]}. */
  public long[] memoryInfo(Pointer context) throws CudaException {
    check("cuCtxSetCurrent", lib.cuCtxSetCurrent(context));
    LongByReference free = new LongByReference();
    LongByReference total = new LongByReference();
    check("cuMemGetInfo", lib.cuMemGetInfo_v2(free, total));
    return new long[] {free.getValue(), total.getValue()};
  }

  /**
   * The process's checkpoint state, or empty when it is no CUDA process (it has no driver restore
   * thread, the test the driver's own cuda-checkpoint tool uses).
   */
  public Optional<CudaProcessState> processState(int pid) throws CudaException {
    IntByReference tid = new IntByReference();
    if (lib.cuCheckpointProcessGetRestoreThreadId(pid, tid) != SUCCESS) {
      return Optional.empty();
    }
    IntByReference state = new IntByReference();
    check("cuCheckpointProcessGetState(" + pid + ")", lib.cuCheckpointProcessGetState(pid, state));
    return Optional.of(CudaProcessState.of(state.getValue()));
  }

  /** A GPU UUID pair for a restore onto another GPU. */
  public record GpuPair(String from, String to) {
    /** Whether this pair puts a GPU's state onto another GPU (not an identity pair). */
    public boolean moves() {
      return !from.equals(to);
    }
  }

  private void check(String call, int result) throws CudaException {
    if (result != SUCCESS) {
      throw new CudaException(call, result, words(result));
    }
  }

  private String words(int result) {
    PointerByReference text = new PointerByReference();
    return lib.cuGetErrorString(result, text) == SUCCESS && text.getValue() != null
        ? text.getValue().getString(0)
        : "unknown error";
  }

  static String cString(byte[] b) {
    int n = 0;
    while (n < b.length && b[n] != 0) {
      n++;
    }
    return new String(b, 0, n, StandardCharsets.UTF_8);
  }

  /** "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as nvidia-smi prints it. */
  static String uuidString(byte[] b) {
    String h = HexFormat.of().formatHex(b);
    return "GPU-"
        + h.substring(0, 8)
        + "-"
        + h.substring(8, 12)
        + "-"
        + h.substring(12, 16)
        + "-"
        + h.substring(16, 20)
        + "-"
        + h.substring(20);
  }
}
