package dev.warmstart.agent.store;

/**
 * What the image store takes on disk.
 *
 * @param images image directories, broken ones included
 * @param brokenImages images whose manifest cannot be read
 * @param imageBytes all image directories together
 * @param inProgressBytes staging copies of checkpoints and restore work files of running operations
 *     (a dead process's are removed when the agent or the CLI next opens the store)
 * @param freeBytes usable space left on the store's file system
 */
public record StoreUsage(
    String root,
    int images,
    int brokenImages,
    long imageBytes,
    long inProgressBytes,
    long freeBytes) {}
