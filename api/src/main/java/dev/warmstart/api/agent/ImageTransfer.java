package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An image store on a PersistentVolumeClaim, reached through a running container that mounts the
 * claim: the checkpoint's storage pod (export), the restore's placeholder (import). The agent finds
 * the volume's directory on the node from that container's mounts, so the claim works with any
 * access mode the node can mount.
 *
 * @param containerId the container that mounts the claim
 * @param mountPath where it mounts it
 * @param subPath the image store's directory inside the volume (relative, no '..')
 * @param digest for an import: the manifest digest the image must have ("sha256:<hex>"); null for
 *     an export
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ImageTransfer(String containerId, String mountPath, String subPath, String digest) {}
