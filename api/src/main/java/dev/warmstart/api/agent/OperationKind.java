package dev.warmstart.api.agent;

/** What an agent operation does. */
public enum OperationKind {
  CHECKPOINT,
  RESTORE,
  DELETE_IMAGE
}
