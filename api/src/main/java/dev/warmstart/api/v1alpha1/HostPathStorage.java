package dev.warmstart.api.v1alpha1;

/**
 * Node-local storage in the node agent's image store (Helm value agent.storage.hostPath), the
 * default. It has no settings: images are named after the checkpoint's namespace and name.
 */
public record HostPathStorage() {}
