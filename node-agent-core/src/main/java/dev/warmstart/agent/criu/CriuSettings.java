package dev.warmstart.agent.criu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Where CRIU and our plugins are.
 *
 * @param binary the criu executable (the wrapper from scripts/install-criu.sh)
 * @param pluginDir folder with warmstart_cuda_plugin.so, passed as --libdir when present
 * @param environment extra environment for CRIU and its plugins (e.g. WARMSTART_LIBCUDA)
 * @param stopGrace how long a CRIU asked to stop (SIGTERM) may take to undo its work before it is
 *     killed; a driver call in progress extends it
 */
public record CriuSettings(
    Path binary, Optional<Path> pluginDir, Map<String, String> environment, Duration stopGrace) {
  public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(30);

  public CriuSettings(Path binary, Optional<Path> pluginDir, Map<String, String> environment) {
    this(binary, pluginDir, environment, DEFAULT_STOP_GRACE);
  }

  public CriuSettings(Path binary, Optional<Path> pluginDir) {
    this(binary, pluginDir, Map.of());
  }
}
