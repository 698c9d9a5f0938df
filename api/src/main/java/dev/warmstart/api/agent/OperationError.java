package dev.warmstart.api.agent;

/** A failure with a machine-readable reason and a message for a person. */
public record OperationError(ErrorReason reason, String message) {}
