package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One unit of work for an agent. The same {@code idempotencyKey} submitted twice returns the first
 * operation; the operator derives it from the custom resource's UID and attempt.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record OperationRequest(
    String idempotencyKey,
    OperationKind kind,
    CheckpointRequest checkpoint,
    RestoreRequest restore,
    ActivateRequest activate,
    String deleteImageName) {

  public static OperationRequest checkpoint(String key, CheckpointRequest request) {
    return new OperationRequest(key, OperationKind.CHECKPOINT, request, null, null, null);
  }

  public static OperationRequest restore(String key, RestoreRequest request) {
    return new OperationRequest(key, OperationKind.RESTORE, null, request, null, null);
  }

  public static OperationRequest activate(String key, ActivateRequest request) {
    return new OperationRequest(key, OperationKind.ACTIVATE, null, null, request, null);
  }

  public static OperationRequest deleteImage(String key, String imageName) {
    return new OperationRequest(key, OperationKind.DELETE_IMAGE, null, null, null, imageName);
  }
}
