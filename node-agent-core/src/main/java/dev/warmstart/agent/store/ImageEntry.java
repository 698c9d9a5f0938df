package dev.warmstart.agent.store;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One image directory of the store as {@code list} shows it: a readable manifest, or broken with
 * the reason (still there, so that {@code delete} can remove it).
 *
 * @param diskBytes what its files take on disk
 * @param manifest null when broken
 * @param problem why it is broken; null when the manifest reads
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ImageEntry(String name, long diskBytes, Manifest manifest, String problem) {
  public boolean broken() {
    return problem != null;
  }
}
