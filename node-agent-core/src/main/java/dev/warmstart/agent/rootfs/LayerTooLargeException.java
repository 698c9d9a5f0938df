package dev.warmstart.agent.rootfs;

/** The container's writable layer is larger than the agent may carry in a checkpoint. */
public final class LayerTooLargeException extends Exception {
  public LayerTooLargeException(long bytes, long limit) {
    super(
        "the container's writable layer holds "
            + bytes
            + " bytes of files, more than the limit of "
            + limit
            + " (agent setting warmstart.agent.writable-layer.max-bytes): raise it, or exclude"
            + " paths the restored process does not need (writable-layer.exclude)");
  }
}
