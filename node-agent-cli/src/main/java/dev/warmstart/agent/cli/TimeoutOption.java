package dev.warmstart.agent.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code --timeout}, the same for every command that waits on CRIU or the driver. */
final class TimeoutOption {
  @Option(
      names = "--timeout",
      defaultValue = "600",
      converter = Seconds.class,
      description = "Seconds before giving up, 1-86400 (default ${DEFAULT-VALUE}).")
  int seconds;

  Duration duration() {
    return Duration.ofSeconds(seconds);
  }
}
