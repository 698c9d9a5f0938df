package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.warmstart.api.v1alpha1.HttpHook;
import java.util.Map;

/**
 * Capture a process tree into a named image.
 *
 * @param imageName store name of the image, unique per node ({@code <namespace>.<checkpoint>})
 * @param labels free metadata recorded in the manifest (pod, namespace, image, node)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointRequest(
    ProcessTarget target,
    String imageName,
    boolean leaveRunning,
    int timeoutSeconds,
    HttpHook preCheckpointHook,
    Map<String, String> labels) {}
