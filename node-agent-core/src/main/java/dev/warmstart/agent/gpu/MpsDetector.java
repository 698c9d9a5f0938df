package dev.warmstart.agent.gpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Tells MPS clients apart: the driver's checkpoint API cannot capture a process whose GPU work goes
 * through an MPS server. A client finds the server through the control pipe in its
 * CUDA_MPS_PIPE_DIRECTORY (default /tmp/nvidia-mps), seen from its own root.
 */
public final class MpsDetector {
  private static final String DEFAULT_PIPE_DIR = "/tmp/nvidia-mps";
  private final Path proc;

  public MpsDetector(Path proc) {
    this.proc = proc;
  }

  public MpsDetector() {
    this(Path.of("/proc"));
  }

  /** The control pipe the process would use, when an MPS server is reachable for it. */
  public Optional<String> mpsControlPipe(int pid) {
    String dir = pipeDirectory(pid).orElse(DEFAULT_PIPE_DIR);
    Path control = proc.resolve(Integer.toString(pid)).resolve("root").resolve(dir.substring(1));
    return Files.exists(control.resolve("control"))
        ? Optional.of(dir + "/control")
        : Optional.empty();
  }

  private Optional<String> pipeDirectory(int pid) {
    try {
      byte[] env = Files.readAllBytes(proc.resolve(Integer.toString(pid)).resolve("environ"));
      for (String var : new String(env, StandardCharsets.UTF_8).split("\0")) {
        if (var.startsWith("CUDA_MPS_PIPE_DIRECTORY=")) {
          String dir = var.substring(var.indexOf('=') + 1);
          return dir.startsWith("/") ? Optional.of(dir) : Optional.empty();
        }
      }
    } catch (IOException e) {
      // gone or not readable: the default directory decides
    }
    return Optional.empty();
  }
}
