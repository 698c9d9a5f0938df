package dev.warmstart.agent.cuda;

/** A driver call that did not return CUDA_SUCCESS, with the driver's own words for it. */
public final class CudaException extends Exception {
  private final int code;

  public CudaException(String call, int code, String text) {
    super(call + " failed: " + text + " (CUresult " + code + ")");
    this.code = code;
  }

  public int code() {
    return code;
  }
}
