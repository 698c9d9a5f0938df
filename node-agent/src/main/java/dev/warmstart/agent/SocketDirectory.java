package dev.warmstart.agent;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Creates the Unix socket's directory, root-only, before the HTTP server binds the socket in it:
 * the directory's 0700 is what keeps everyone but root off the CLI socket.
 */
public class SocketDirectory {
  void create(
      @Observes @Priority(1) StartupEvent event,
      @ConfigProperty(name = "quarkus.http.domain-socket-enabled", defaultValue = "false")
          boolean enabled,
      @ConfigProperty(name = "quarkus.http.domain-socket") Optional<Path> socket)
      throws IOException {
    if (!enabled || socket.isEmpty()) {
      return;
    }
    Path dir = socket.get().toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Files.deleteIfExists(socket.get()); // a stale socket from a killed agent blocks the bind
  }
}
