package dev.warmstart.operator.reconciler.checkpoint;

import io.fabric8.kubernetes.api.model.PodTemplateSpec;

/** The container a GpuCheckpoint names, resolved against the running pod. */
public record CheckpointTarget(
    String nodeName, String containerName, String containerId, PodTemplateSpec podTemplate) {}
