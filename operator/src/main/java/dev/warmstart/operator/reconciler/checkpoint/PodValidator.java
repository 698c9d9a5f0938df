package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.operator.status.ConditionReason;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks that a pod can be checkpointed as the spec asks, and finds the container: the named one,
 * the only one, or the one requesting nvidia.com/gpu.
 */
public final class PodValidator {
  /** Why the pod cannot be checkpointed (now, or ever when {@code terminal}). */
  public record Problem(ConditionReason reason, String message, boolean terminal) {}

  /** Either a target or a problem. */
  public record Result(Optional<CheckpointTarget> target, Optional<Problem> problem) {
    static Result ok(CheckpointTarget t) {
      return new Result(Optional.of(t), Optional.empty());
    }

    static Result problem(ConditionReason r, String m, boolean terminal) {
      return new Result(Optional.empty(), Optional.of(new Problem(r, m, terminal)));
    }
  }

  private static final String GPU = "nvidia.com/gpu";
  private static final List<String> CONTROLLER_LABELS =
      List.of(
          "pod-template-hash", "controller-revision-hash", "statefulset.kubernetes.io/pod-name");

  public Result validate(Pod pod, GpuCheckpointSpec spec) {
    String name = spec.podName();
    if (pod == null) {
      return Result.problem(ConditionReason.PodNotFound, "pod " + name + " not found", true);
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
      return Result.problem(
          ConditionReason.PodNotRunning, "pod " + name + " has ended (" + phase + ")", true);
    }
    if (!"Running".equals(phase)) {
      return Result.problem(
          ConditionReason.PodNotRunning,
          "pod " + name + " is " + phase + ", waiting for it",
          false);
    }
    List<Container> containers = pod.getSpec().getContainers();
    Container c;
    if (spec.containerName() != null) {
      c =
          containers.stream()
              .filter(x -> x.getName().equals(spec.containerName()))
              .findFirst()
              .orElse(null);
      if (c == null) {
        return Result.problem(
            ConditionReason.ContainerNotFound,
            "pod " + name + " has no container " + spec.containerName(),
            true);
      }
    } else if (containers.size() == 1) {
      c = containers.get(0);
    } else {
      List<Container> gpu = containers.stream().filter(PodValidator::requestsGpu).toList();
      if (gpu.size() != 1) {
        return Result.problem(
            ConditionReason.ContainerNotFound,
            "pod "
                + name
                + " has "
                + containers.size()
                + " containers and "
                + gpu.size()
                + " request "
                + GPU
                + ": set spec.containerName",
            true);
      }
      c = gpu.get(0);
    }
    if (c.getEnv() != null
        && c.getEnv().stream().anyMatch(e -> "CUDA_MPS_PIPE_DIRECTORY".equals(e.getName()))) {
      return Result.problem(
          ConditionReason.UnsupportedWorkload,
          "container "
              + c.getName()
              + " is an MPS client (CUDA_MPS_PIPE_DIRECTORY): the CUDA driver"
              + " cannot checkpoint MPS clients",
          true);
    }
    ContainerStatus cs =
        pod.getStatus().getContainerStatuses() == null
            ? null
            : pod.getStatus().getContainerStatuses().stream()
                .filter(s -> s.getName().equals(c.getName()))
                .findFirst()
                .orElse(null);
    if (cs == null
        || cs.getState() == null
        || cs.getState().getRunning() == null
        || cs.getContainerID() == null) {
      return Result.problem(
          ConditionReason.PodNotRunning,
          "container " + c.getName() + " of pod " + name + " is not running yet",
          false);
    }
    String id = cs.getContainerID().replaceFirst("^[a-z0-9-]+://", "");
    return Result.ok(
        new CheckpointTarget(pod.getSpec().getNodeName(), c.getName(), id, template(pod)));
  }

  private static boolean requestsGpu(Container c) {
    var r = c.getResources();
    if (r == null) {
      return false;
    }
    return positive(r.getLimits()) || positive(r.getRequests());
  }

  private static boolean positive(Map<String, Quantity> m) {
    return m != null && m.containsKey(GPU) && !"0".equals(m.get(GPU).getAmount());
  }

  /** The pod as a template for a placeholder: its spec, its own labels, no node, no status. */
  static PodTemplateSpec template(Pod pod) {
    Map<String, String> labels =
        new HashMap<>(
            pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels());
    CONTROLLER_LABELS.forEach(labels::remove);
    PodSpec spec = new PodSpecBuilder(pod.getSpec()).withNodeName(null).build();
    return new PodTemplateSpec(
        new ObjectMetaBuilder()
            .withLabels(labels)
            .withAnnotations(pod.getMetadata().getAnnotations())
            .build(),
        spec);
  }
}
