package dev.warmstart.agent.ops;

import dev.warmstart.agent.criu.CriuFailure;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.DumpSpec;
import dev.warmstart.agent.gpu.GpuProbe;
import dev.warmstart.agent.gpumem.GpuMemoryPayload;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.store.ImageExistsException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.v1alpha1.GpuInfo;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * Captures a process tree into the image store. An existing image of the same name is refused
 * before anything is frozen, unless the command asks to replace it. On any failure the staging
 * directory is removed, the previous image of that name is left as it was, and the tree is running
 * (CRIU resumes it; a tree CRIU left stopped, e.g. because CRIU itself was killed, is continued).
 */
public final class CheckpointService {
  private final CriuRunner criu;
  private final ImageStore store;
  private final Procfs procfs;
  private final ContainerLocator containers;
  private final TreeInspector inspector;
  private final TreeResumer resumer;
  private final Clock clock;
  private final String nodeName;
  private final GpuProbe gpuProbe;
  private final WorkloadHook hooks = new WorkloadHook();
  private final GpuMemoryPayload gpuMemory;

  public CheckpointService(
      CriuRunner criu,
      ImageStore store,
      Procfs procfs,
      ContainerLocator containers,
      Clock clock,
      String nodeName,
      GpuProbe gpuProbe) {
    this.criu = criu;
    this.store = store;
    this.procfs = procfs;
    this.containers = containers;
    this.inspector = new TreeInspector(procfs);
    this.resumer = new TreeResumer(procfs);
    this.clock = clock;
    this.nodeName = nodeName;
    this.gpuProbe = gpuProbe;
    this.gpuMemory = new GpuMemoryPayload(procfs);
  }

  public StoredImage checkpoint(CheckpointCommand cmd, Progress progress) throws CriuFailure {
    Timings timings = new Timings();
    long t = System.nanoTime();
    progress.step("inspect");
    ImageStore.requireValidName(cmd.imageName());
    int pid = resolvePid(cmd);
    timings.record("resolve", t);
    if (cmd.preCheckpointHook() != null) {
      t = System.nanoTime();
      progress.step("preCheckpointHook");
      hooks.call(pid, cmd.preCheckpointHook(), "pre-checkpoint");
      timings.record("preCheckpointHook", t);
    }
    t = System.nanoTime();
    TreeInspector.Layout layout;
    String criuVersion;
    try {
      layout = inspector.inspect(pid, cmd.target().containerId());
      criuVersion = criu.version();
    } catch (IOException e) {
      throw new CriuFailure(
          ErrorReason.ProcessNotFound, "process " + pid + " vanished: " + e.getMessage(), e);
    }
    GpuInfo probed = gpuProbe.inspect(layout.source().processes()).orElse(null);
    timings.record("inspect", t);

    if (!cmd.replace() && store.exists(cmd.imageName())) {
      // Refused before anything is frozen; the commit checks again, atomically.
      throw new CriuFailure(
          ErrorReason.ImageExists, new ImageExistsException(cmd.imageName()).getMessage());
    }
    ScratchDir staging;
    try {
      staging = store.stage(cmd.imageName());
    } catch (IOException e) {
      throw new CriuFailure(
          ErrorReason.Internal, "cannot create staging directory: " + e.getMessage(), e);
    }
    try (staging) {
      t = System.nanoTime();
      GpuMemoryPayload.Out gpuMemoryOut =
          gpuMemory.checkpoint(layout.source().processes(), staging.dir(), cmd.timeout());
      GpuInfo gpu = probed;
      if (!gpuMemoryOut.isEmpty()) {
        timings.record("gpuMemoryCheckpoint", t);
        gpu =
            (gpu == null ? new GpuInfo(null, null, null, null, null) : gpu)
                .withManagedMemoryBytes(gpuMemoryOut.bytes());
      }
      GpuInfo recorded = gpu;
      t = System.nanoTime();
      progress.step("dump");
      int freezeSeconds = (int) Math.max(1, Math.min(cmd.timeout().toSeconds(), 3600));
      try {
        criu.dump(
            new DumpSpec(
                pid, staging.dir(), cmd.leaveRunning(), layout.dumpExternals(), freezeSeconds),
            cmd.timeout());
      } catch (CriuFailure e) {
        // CRIU resumed the tree (or the catch below does): its memory comes back before the
        // payload goes away with the staging directory.
        resumer.resume(layout.source().processes());
        String back = gpuMemory.putBackQuietly(gpuMemoryOut, cmd.timeout());
        throw back.isEmpty() ? e : new CriuFailure(e.reason(), e.getMessage() + back, e);
      }
      timings.record("dump", t);
      if (cmd.leaveRunning() && !gpuMemoryOut.isEmpty()) {
        t = System.nanoTime();
        gpuMemory.resume(gpuMemoryOut, cmd.timeout());
        timings.record("gpuMemoryResume", t);
      }
      CudaReport.read(staging.dir(), CudaReport.DUMP)
          .ifPresent(r -> timings.putAll(r.timings("gpuLock", "gpuCheckpoint")));

      t = System.nanoTime();
      progress.step("store");
      Map<String, Long> partial = timings.withTotal();
      StoredImage image =
          store.commit(
              staging,
              cmd.imageName(),
              cmd.replace(),
              draft ->
                  new Manifest(
                      draft.formatVersion(),
                      draft.name(),
                      clock.instant().toString(),
                      nodeName,
                      criuVersion,
                      layout.source(),
                      draft.files(),
                      draft.sizeBytes(),
                      partial,
                      cmd.labels() == null ? Map.of() : Map.copyOf(cmd.labels()),
                      recorded));
      timings.record("store", t);
      return image;
    } catch (CriuFailure | ImageExistsException | IOException | RuntimeException e) {
      // Closing the staging directory (above) removed the partial image.
      resumer.resume(layout.source().processes());
      if (e instanceof CriuFailure f) {
        throw f;
      }
      if (e instanceof ImageExistsException x) {
        throw new CriuFailure(ErrorReason.ImageExists, x.getMessage(), x);
      }
      if (e instanceof IOException io) {
        boolean full = String.valueOf(io.getMessage()).contains("No space left");
        throw new CriuFailure(
            full ? ErrorReason.NoSpace : ErrorReason.Internal,
            "storing the image failed: " + io.getMessage(),
            io);
      }
      throw (RuntimeException) e;
    }
  }

  private int resolvePid(CheckpointCommand cmd) throws CriuFailure {
    if (cmd.target().pid() != null) {
      int pid = cmd.target().pid();
      if (!procfs.exists(pid)) {
        throw new CriuFailure(ErrorReason.ProcessNotFound, "no process with PID " + pid);
      }
      return pid;
    }
    if (cmd.target().containerId() == null) {
      throw new CriuFailure(ErrorReason.InvalidRequest, "target needs a pid or a containerId");
    }
    try {
      ContainerRef c =
          containers
              .find(cmd.target().containerId())
              .orElseThrow(
                  () ->
                      new CriuFailure(
                          ErrorReason.ContainerNotFound,
                          "no running container " + cmd.target().containerId()));
      if (!procfs.exists(c.initPid())) {
        throw new CriuFailure(
            ErrorReason.ContainerNotFound, "container " + c.id() + " is not running");
      }
      return c.initPid();
    } catch (IOException | IllegalArgumentException e) {
      throw new CriuFailure(ErrorReason.ContainerNotFound, e.getMessage(), e);
    }
  }

  static Duration orDefault(Duration d) {
    return d == null ? Duration.ofMinutes(10) : d;
  }
}
