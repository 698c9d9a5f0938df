package dev.warmstart.agent.criu;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where CRIU and our plugins are.
 *
 * @param binary the criu executable (the wrapper from scripts/install-criu.sh)
 * @param pluginDir folder with warmstart_cuda_plugin.so, passed as --libdir when present
 * @param environment extra environment for CRIU and its plugins (e.g. WARMSTART_LIBCUDA)
 */
public record CriuSettings(Path binary, Optional<Path> pluginDir, Map<String, String> environment) {
  public CriuSettings(Path binary, Optional<Path> pluginDir) {
    this(binary, pluginDir, Map.of());
  }
}
