package dev.warmstart.api.agent;

/**
 * The agent's image store on its node: the filesystem it lives on, and what images take.
 *
 * @param capacityBytes size of the filesystem holding the store
 * @param usableBytes bytes a new image can still take (free space the agent may write)
 * @param imagesBytes bytes the store's files take (images, staging, trash)
 * @param images image directories, broken ones included
 * @param brokenImages images whose manifest cannot be read
 * @param inProgressBytes staging copies and restore work files of operations still running
 */
public record StoreUsage(
    String node,
    long capacityBytes,
    long usableBytes,
    long imagesBytes,
    int images,
    int brokenImages,
    long inProgressBytes) {

  /** The filesystem's figures alone (no count of images). */
  public StoreUsage(String node, long capacityBytes, long usableBytes, long imagesBytes) {
    this(node, capacityBytes, usableBytes, imagesBytes, 0, 0, 0);
  }
}
