package dev.warmstart.agent.gpu;

import dev.warmstart.agent.cuda.CudaDevice;
import dev.warmstart.agent.cuda.CudaException;
import dev.warmstart.agent.cuda.Nvml;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Which GPUs a process holds open: its {@code /dev/nvidiaN} descriptors, N being a GPU's minor
 * number. The driver checkpoints every GPU a process has open, used or not, and a restore that
 * remaps GPUs must name each of them (a partial map is refused with "invalid argument"), so the
 * checkpoint records them.
 */
public final class OpenDevices {
  private static final Logger LOG = Logger.getLogger(OpenDevices.class);
  private static final Pattern DEVICE = Pattern.compile("/dev/nvidia(\\d+)");

  private final Path proc;
  private final Map<Integer, String> uuidByMinor;

  public OpenDevices(Path proc, Map<Integer, String> uuidByMinor) {
    this.proc = proc;
    this.uuidByMinor = Map.copyOf(uuidByMinor);
  }

  /** The node's GPUs by minor number, from NVML; none known without NVML. */
  public static OpenDevices of(GpuRuntime gpus) {
    Map<Integer, String> byMinor = new HashMap<>();
    if (gpus.nvml().isPresent()) {
      Nvml nvml = gpus.nvml().get();
      for (CudaDevice d : gpus.devices()) {
        try {
          byMinor.put(nvml.minorNumber(d.uuid()), d.uuid());
        } catch (CudaException | UnsatisfiedLinkError e) {
          LOG.warnf("no minor number for GPU %s: %s", d.uuid(), e.getMessage());
        }
      }
    }
    return new OpenDevices(Path.of("/proc"), byMinor);
  }

  /**
   * UUIDs of the GPUs whose device nodes the process has open, by minor number; empty when it has
   * none open or is gone.
   */
  public Set<String> of(int pid) throws IOException {
    Map<Integer, String> found = new TreeMap<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve(pid + "/fd"))) {
      for (Path fd : fds) {
        String target;
        try {
          target = Files.readSymbolicLink(fd).toString();
        } catch (NoSuchFileException e) {
          continue; // closed meanwhile
        }
        Matcher m = DEVICE.matcher(target);
        if (m.matches()) {
          int minor = Integer.parseInt(m.group(1));
          String uuid = uuidByMinor.get(minor);
          if (uuid != null) {
            found.put(minor, uuid);
          }
        }
      }
    } catch (NoSuchFileException e) {
      return Set.of();
    }
    return new LinkedHashSet<>(found.values());
  }
}
