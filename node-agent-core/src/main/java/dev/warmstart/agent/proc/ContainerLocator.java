package dev.warmstart.agent.proc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Finds containers by id in runc's state directories: runc itself ({@code /run/runc}), containerd's
 * Kubernetes namespace ({@code /run/containerd/runc/k8s.io}) and others given in configuration.
 * Kubelet reports ids as {@code containerd://<id>}; the scheme is ignored.
 */
public final class ContainerLocator {
  private static final Pattern ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$");
  private final List<Path> stateRoots;
  private final ObjectMapper json = new ObjectMapper();

  public ContainerLocator(List<Path> stateRoots) {
    this.stateRoots = List.copyOf(stateRoots);
  }

  public Optional<ContainerRef> find(String containerId) throws IOException {
    String id = containerId.replaceFirst("^[a-z0-9-]+://", "");
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not a container id: '" + containerId + "'");
    }
    for (Path root : stateRoots) {
      Path state = root.resolve(id).resolve("state.json");
      if (Files.isRegularFile(state)) {
        return Optional.of(parse(id, json.readTree(state.toFile())));
      }
    }
    return Optional.empty();
  }

  private static ContainerRef parse(String id, JsonNode state) {
    List<ContainerRef.MountSpec> mounts = new ArrayList<>();
    for (JsonNode m : state.path("config").path("mounts")) {
      mounts.add(
          new ContainerRef.MountSpec(
              m.path("source").asText(),
              m.path("destination").asText(),
              m.path("device").asText()));
    }
    return new ContainerRef(
        id,
        state.path("init_process_pid").asInt(),
        Path.of(state.path("config").path("rootfs").asText()),
        mounts);
  }
}
