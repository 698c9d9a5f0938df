package dev.warmstart.agent.operation;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The operation services' worker pools of one test, drained and waited for after it. An operation
 * reads as finished before its last journal write lands, so a pool still running when the test's
 * {@code @TempDir} is deleted races that write and fails the cleanup.
 */
public final class WorkerPools implements AfterEachCallback {
  private final List<ExecutorService> pools = new ArrayList<>();

  public synchronized ExecutorService fixed(int threads) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    pools.add(pool);
    return pool;
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) throws InterruptedException {
    // No interrupt: it would close a journal write's channel mid-way and log a failure.
    pools.forEach(ExecutorService::shutdown);
    try {
      for (ExecutorService pool : pools) {
        if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("an operation worker did not finish within 30 s");
        }
      }
    } finally {
      pools.forEach(ExecutorService::shutdownNow);
      pools.clear();
    }
  }
}
