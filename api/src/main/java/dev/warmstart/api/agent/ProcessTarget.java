package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The process tree to checkpoint: either a host PID, or a container found by id (as kubelet reports
 * it, e.g. {@code containerd://<id>}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProcessTarget(Integer pid, String containerId) {
  public static ProcessTarget ofPid(int pid) {
    return new ProcessTarget(pid, null);
  }

  public static ProcessTarget ofContainer(String containerId) {
    return new ProcessTarget(null, containerId);
  }
}
