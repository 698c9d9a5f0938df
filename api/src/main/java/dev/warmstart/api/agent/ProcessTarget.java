package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The process tree to checkpoint: either a host PID, or a container found by id (as kubelet reports
 * it, e.g. {@code containerd://<id>}) optionally narrowed by its pod's UID.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProcessTarget(Integer pid, String containerId, String podUid) {
  public static ProcessTarget ofPid(int pid) {
    return new ProcessTarget(pid, null, null);
  }

  public static ProcessTarget ofContainer(String containerId) {
    return new ProcessTarget(null, containerId, null);
  }
}
