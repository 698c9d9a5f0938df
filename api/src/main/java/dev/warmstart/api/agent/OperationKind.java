package dev.warmstart.api.agent;

/** What an agent operation does. */
public enum OperationKind {
  CHECKPOINT,
  RESTORE,
  /** The GPU half of a prepared restore. */
  ACTIVATE,
  DELETE_IMAGE
}
