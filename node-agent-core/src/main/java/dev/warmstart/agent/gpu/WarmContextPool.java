package dev.warmstart.agent.gpu;

import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.cuda.CudaDriver;
import dev.warmstart.agent.cuda.CudaException;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Holds a primary CUDA context on each selected GPU for the agent's lifetime. While one process
 * holds a context the driver stays initialised for the GPU, so the CRIU plugin's cuInit on the
 * restore path takes ~10 ms instead of ~200 ms, and the agent's own driver calls start at once.
 */
public final class WarmContextPool implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(WarmContextPool.class);

  /** One held context, or why it could not be created. */
  public record WarmContext(
      int ordinal, String uuid, String name, boolean held, long retainMs, String error) {}

  private final CudaDriver cuda;
  private final List<WarmContext> contexts;

  private WarmContextPool(CudaDriver cuda, List<WarmContext> contexts) {
    this.cuda = cuda;
    this.contexts = contexts;
  }

  /** An empty pool: off by setting, or no GPU. */
  public static WarmContextPool empty() {
    return new WarmContextPool(null, new ArrayList<>());
  }

  public static WarmContextPool start(GpuRuntime gpus, GpuSettings settings) {
    if (!settings.warmPool() || !gpus.available()) {
      return empty();
    }
    CudaDriver cuda = gpus.cuda().orElseThrow();
    List<WarmContext> held = new ArrayList<>();
    WarmContextPool pool = new WarmContextPool(cuda, held);
    for (CudaDevice d : gpus.devices()) {
      if (!settings.selects(d.uuid(), d.ordinal())) {
        continue;
      }
      long t = System.nanoTime();
      try {
        cuda.retainPrimaryContext(d.ordinal());
        long ms = (System.nanoTime() - t) / 1_000_000;
        held.add(new WarmContext(d.ordinal(), d.uuid(), d.name(), true, ms, null));
        LOG.infof("warm context on GPU %d (%s) in %d ms", d.ordinal(), d.uuid(), ms);
      } catch (CudaException e) {
        held.add(new WarmContext(d.ordinal(), d.uuid(), d.name(), false, 0, e.getMessage()));
        LOG.warnf("no warm context on GPU %d (%s): %s", d.ordinal(), d.uuid(), e.getMessage());
      }
    }
    return pool;
  }

  public List<WarmContext> contexts() {
    return List.copyOf(contexts);
  }

  public long heldCount() {
    return contexts.stream().filter(WarmContext::held).count();
  }

  @Override
  public synchronized void close() {
    for (WarmContext c : contexts) {
      if (c.held()) {
        try {
          cuda.releasePrimaryContext(c.ordinal());
        } catch (CudaException e) {
          LOG.warnf("releasing the context on GPU %d: %s", c.ordinal(), e.getMessage());
        }
      }
    }
    contexts.clear();
  }
}
