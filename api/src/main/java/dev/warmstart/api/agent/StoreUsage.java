package dev.warmstart.api.agent;

/**
 * The agent's image store on its node: the filesystem it lives on, and what images take.
 *
 * @param capacityBytes size of the filesystem holding the store
 * @param usableBytes bytes a new image can still take (free space the agent may write)
 * @param imagesBytes bytes the store's files take (images, staging, trash)
 */
public record StoreUsage(String node, long capacityBytes, long usableBytes, long imagesBytes) {}
