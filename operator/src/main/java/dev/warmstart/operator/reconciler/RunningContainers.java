package dev.warmstart.operator.reconciler;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Optional;
import java.util.function.Predicate;

/** Container ids of a pod's running containers, as the agent (runc's state) names them. */
public final class RunningContainers {
  private RunningContainers() {}

  /** The id of the first running container that {@code which} accepts, without its scheme. */
  public static Optional<String> id(Pod pod, Predicate<ContainerStatus> which) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(which)
        .filter(c -> c.getState() != null && c.getState().getRunning() != null)
        .map(ContainerStatus::getContainerID)
        .filter(id -> id != null && !id.isBlank())
        .map(id -> id.replaceFirst("^[a-z0-9-]+://", ""))
        .findFirst();
  }
}
