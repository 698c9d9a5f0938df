package dev.warmstart.agent.criu;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where CRIU and our plugins are.
 *
 * @param binary the criu executable (the wrapper from scripts/install-criu.sh)
 * @param pluginDir folder with warmstart_cuda_plugin.so, passed as --libdir when present
 */
public record CriuSettings(Path binary, Optional<Path> pluginDir) {}
