package dev.warmstart.agent.gpu;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * What the CUDA plugin reported for a dump or a restore (warmstart-cuda-*.json). CRIU does not fail
 * a restore whose GPU state could not come back, so this report is how the agent finds out.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CudaReport(
    boolean ok, double cuInitMs, double wallMs, double frozenMs, List<Process> processes) {
  public static final String DUMP = "warmstart-cuda-dump.json";
  public static final String RESTORE = "warmstart-cuda-restore.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One CUDA process of the tree. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Process(
      int pid,
      double lockMs,
      double checkpointMs,
      double restoreMs,
      double unlockMs,
      boolean ok,
      String error) {}

  /** The report in {@code dir}, if the plugin wrote one (it does only for CUDA trees). */
  public static Optional<CudaReport> read(Path dir, String name) throws IOException {
    Path file = dir.resolve(name);
    return Files.isRegularFile(file)
        ? Optional.of(JSON.readValue(file.toFile(), CudaReport.class))
        : Optional.empty();
  }

  /** The driver's error strings of the processes that failed. */
  public String errors() {
    return processes.stream()
        .filter(p -> !p.ok())
        .map(Process::error)
        .collect(Collectors.joining("; "));
  }

  /** Step timings in ms: processes run in parallel, so each phase takes its slowest process. */
  public Map<String, Long> timings(String... phases) {
    Map<String, Long> out = new java.util.LinkedHashMap<>();
    out.put("cudaInit", Math.round(cuInitMs));
    if (frozenMs > 0) {
      out.put("frozen", Math.round(frozenMs)); // CUDA work held: first lock to last unlock
    }
    for (String phase : phases) {
      ToDoubleFunction<Process> f =
          switch (phase) {
            case "gpuLock" -> Process::lockMs;
            case "gpuCheckpoint" -> Process::checkpointMs;
            case "gpuRestore" -> Process::restoreMs;
            default -> Process::unlockMs;
          };
      out.put(phase, Math.round(processes.stream().mapToDouble(f).max().orElse(0)));
    }
    return out;
  }
}
