package dev.warmstart.agent.restore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The processes a failed or stopped restore left behind: a tree CRIU had begun to create holds the
 * image's PIDs and hangs, half-restored, so every retry would fail PidInUse. Taken before CRIU runs
 * (which processes exist), killed after a failure: on the host the new processes with the image's
 * PIDs, in a container the placeholder's new descendants.
 */
final class PartialTree {
  private final Set<Long> existing;
  private final Instant start;
  private final List<Integer> imagePids;
  private final Optional<Integer> placeholder;

  private PartialTree(
      Set<Long> existing, Instant start, List<Integer> imagePids, Optional<Integer> placeholder) {
    this.existing = existing;
    this.start = start;
    this.imagePids = imagePids;
    this.placeholder = placeholder;
  }

  /**
   * @param imagePids the checkpointed tree's PIDs (a host restore gives them back)
   * @param placeholder the init of the container restored into; empty: a host restore
   */
  static PartialTree before(List<Integer> imagePids, Optional<Integer> placeholder) {
    Set<Long> now =
        ProcessHandle.allProcesses().map(ProcessHandle::pid).collect(Collectors.toSet());
    return new PartialTree(now, Instant.now().minusSeconds(1), imagePids, placeholder);
  }

  /** Kills what the restore created; returns how many processes. */
  int kill() {
    List<ProcessHandle> created = new ArrayList<>();
    if (placeholder.isPresent()) {
      ProcessHandle.of(placeholder.get())
          .ifPresent(h -> h.descendants().filter(this::isNew).forEach(created::add));
    } else {
      imagePids.stream()
          .map(p -> ProcessHandle.of(p))
          .flatMap(Optional::stream)
          .filter(this::isNew)
          .forEach(
              h -> {
                created.add(h);
                h.descendants().forEach(created::add);
              });
    }
    created.forEach(ProcessHandle::destroyForcibly);
    return created.size();
  }

  private boolean isNew(ProcessHandle h) {
    return !existing.contains(h.pid())
        && h.info().startInstant().map(t -> !t.isBefore(start)).orElse(true);
  }
}
