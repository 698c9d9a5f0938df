package dev.warmstart.agent.gpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A process's open GPUs are read from its fd links to /dev/nvidiaN, by the GPUs' minor numbers. */
class OpenDevicesTest {
  @TempDir Path proc;

  @Test
  void theGpusOfOpenDeviceNodesInMinorOrderNotTheControlDevices() throws Exception {
    Path fds = Files.createDirectories(proc.resolve("42/fd"));
    Files.createSymbolicLink(fds.resolve("3"), Path.of("/dev/nvidiactl"));
    Files.createSymbolicLink(fds.resolve("4"), Path.of("/dev/nvidia1"));
    Files.createSymbolicLink(fds.resolve("5"), Path.of("/dev/nvidia-uvm"));
    Files.createSymbolicLink(fds.resolve("6"), Path.of("/dev/nvidia0"));
    Files.createSymbolicLink(fds.resolve("7"), Path.of("/dev/nvidia1"));
    Files.createSymbolicLink(fds.resolve("8"), Path.of("/dev/nvidia7")); // not a GPU NVML knows
    Files.createSymbolicLink(fds.resolve("9"), Path.of("socket:[123]"));
    OpenDevices open = new OpenDevices(proc, Map.of(0, "GPU-a", 1, "GPU-b"));

    assertThat(open.of(42)).containsExactly("GPU-a", "GPU-b");
    assertThat(open.of(43)).as("a process that is gone").isEmpty();
  }
}
