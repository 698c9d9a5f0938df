package dev.warmstart.agent.operation;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs operations on the executor, one at a time per image: the others wait in their image's queue
 * and hold no thread (a thread blocked on a lock would starve every other image's work). At most
 * {@code capacity} operations are accepted and not ended.
 */
final class OperationQueue {
  private final ExecutorService executor;
  private final int capacity;
  private final Consumer<String> run;
  private final Consumer<String> rejected;
  private final Map<String, ArrayDeque<String>> waiting = new HashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * @param run runs one operation by id, on an executor thread
   * @param rejected settles an operation the executor refused (it is shutting down)
   */
  OperationQueue(
      ExecutorService executor, int capacity, Consumer<String> run, Consumer<String> rejected) {
    this.executor = executor;
    this.capacity = capacity;
    this.run = run;
    this.rejected = rejected;
  }

  /** Refuses a new operation when {@code capacity} are accepted and not ended. */
  void requireRoom() {
    if (inFlight.get() >= capacity) {
      throw new OperationService.BusyException(
          inFlight.get()
              + " operations are accepted and not finished on this node, the most it takes ("
              + capacity
              + "): retry later");
    }
  }

  /** Runs {@code id} now, or after the operations before it on {@code image}. */
  void dispatch(String id, String image) {
    inFlight.incrementAndGet();
    synchronized (waiting) {
      ArrayDeque<String> queue = waiting.get(image);
      if (queue != null) {
        queue.add(id);
        return;
      }
      waiting.put(image, new ArrayDeque<>());
    }
    start(id, image);
  }

  boolean isShutdown() {
    return executor.isShutdown();
  }

  private void start(String id, String image) {
    try {
      executor.execute(
          () -> {
            try {
              run.accept(id);
            } finally {
              next(image);
            }
          });
    } catch (RejectedExecutionException e) {
      rejected.accept(id);
      next(image);
    }
  }

  private void next(String image) {
    inFlight.decrementAndGet();
    String next;
    synchronized (waiting) {
      ArrayDeque<String> queue = waiting.get(image);
      next = queue == null ? null : queue.poll();
      if (next == null) {
        waiting.remove(image);
      }
    }
    if (next != null) {
      start(next, image);
    }
  }
}
