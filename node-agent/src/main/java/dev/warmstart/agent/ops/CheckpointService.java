package dev.warmstart.agent.ops;

import dev.warmstart.agent.criu.CriuFailure;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.DumpSpec;
import dev.warmstart.agent.gpu.FreshDriver;
import dev.warmstart.agent.gpu.GpuProbe;
import dev.warmstart.agent.gpumem.GpuMemoryPayload;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.rootfs.FrozenCapture;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.rootfs.LayerTooLargeException;
import dev.warmstart.agent.rootfs.PostDumpGate;
import dev.warmstart.agent.store.ImageExistsException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.PendingCheckpoint;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.agent.transfer.ImageTransfers;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.v1alpha1.GpuInfo;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Captures a process tree into the image store. An existing image of the same name is refused
 * before anything is frozen, unless the command asks to replace it. On any failure the staging
 * directory is removed, the previous image of that name is left as it was, and the tree is running
 * (CRIU resumes it; a tree CRIU left stopped, e.g. because CRIU itself was killed, is continued).
 */
public final class CheckpointService {
  /** The label an agent operation puts on its image: recovery recognises its own work by it. */
  public static final String OPERATION_LABEL = "warmstart.dev/operation-id";

  private final CriuRunner criu;
  private final ImageStore store;
  private final Procfs procfs;
  private final ContainerLocator containers;
  private final TreeInspector inspector;
  private final TreeResumer resumer;
  private final Clock clock;
  private final String nodeName;
  private final GpuProbe gpuProbe;
  private final LayerSettings layerSettings;
  private final ImageTransfers transfers;
  private final WorkloadHook hooks = new WorkloadHook();
  private final GpuMemoryPayload gpuMemory;

  public CheckpointService(
      CriuRunner criu,
      ImageStore store,
      Procfs procfs,
      ContainerLocator containers,
      Clock clock,
      String nodeName,
      GpuProbe gpuProbe,
      LayerSettings layerSettings,
      FreshDriver freshDriver) {
    this.criu = criu;
    this.layerSettings = layerSettings;
    this.transfers = new ImageTransfers(containers);
    this.store = store;
    this.procfs = procfs;
    this.containers = containers;
    this.inspector = new TreeInspector(procfs);
    this.resumer = new TreeResumer(procfs, freshDriver);
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
    TreeResumer.Undo undone = null; // set where a failed dump was already undone
    try (staging) {
      String operationId = cmd.labels() == null ? null : cmd.labels().get(OPERATION_LABEL);
      if (operationId != null) {
        store.markPending(
            staging,
            new PendingCheckpoint(
                operationId,
                cmd.imageName(),
                cmd.replace(),
                cmd.leaveRunning(),
                new Manifest(
                    Manifest.FORMAT_VERSION,
                    cmd.imageName(),
                    clock.instant().toString(),
                    nodeName,
                    criuVersion,
                    layout.source(),
                    null,
                    0,
                    null,
                    Map.copyOf(cmd.labels()),
                    probed)));
      }
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
      FrozenCapture files;
      try {
        files = dumpWithFiles(cmd, layout, staging, freezeSeconds);
      } catch (CriuFailure | IOException | RuntimeException e) {
        // The shim's payload leaves with the staging directory: the tree (resumed first, so that
        // the shim's thread can answer) gets its GPU memory back before that.
        undone = resumer.undoDump(layout.source().processes());
        String back = gpuMemory.putBackQuietly(gpuMemoryOut, cmd.timeout());
        if (back.isEmpty()) {
          throw e;
        }
        throw new CriuFailure(
            e instanceof CriuFailure f ? f.reason() : ErrorReason.Internal,
            e.getMessage() + back,
            e);
      }
      timings.record("dump", t);
      timings.put("writableLayer", files.millis());
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
                      recorded,
                      files.layer(),
                      files.stamps()));
      timings.record("store", t);
      if (cmd.exportTo() != null) {
        // The tree runs again (or is gone): copying to the volume freezes nothing.
        progress.step("export");
        transfers.export(image, cmd.exportTo());
      }
      return image;
    } catch (CriuFailure | ImageExistsException | IOException | RuntimeException e) {
      // Closing the staging directory (above) removed the partial image. CRIU undoes a failed or
      // stopped dump itself; check that it did, and put back what a killed CRIU left.
      TreeResumer.Undo undo =
          undone != null ? undone : resumer.undoDump(layout.source().processes());
      if (e instanceof CriuFailure f) {
        throw new CriuFailure(f.reason(), f.getMessage() + "; " + undo.describe(), f);
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

  /**
   * The CRIU dump, with the container's writable layer and the stamps of files the image does not
   * carry taken while CRIU still holds the tree frozen (its post-dump notification).
   */
  private FrozenCapture dumpWithFiles(
      CheckpointCommand cmd, TreeInspector.Layout layout, ScratchDir staging, int freezeSeconds)
      throws CriuFailure, IOException {
    FrozenCapture files = FrozenCapture.prepare(layout.source(), staging.dir(), layerSettings);
    PostDumpGate gate = new PostDumpGate(files);
    CriuFailure dumpFailure = null;
    try {
      criu.dump(
          new DumpSpec(
              layout.source().pid(),
              staging.dir(),
              cmd.leaveRunning(),
              layout.dumpExternals(),
              freezeSeconds,
              Optional.of(gate)),
          cmd.timeout());
    } catch (CriuFailure e) {
      dumpFailure = e;
    }
    if (gate.failure().isPresent()) {
      // CRIU failed the dump because of it and resumed the tree: report the cause.
      Exception f = gate.failure().get();
      if (f instanceof LayerTooLargeException tooLarge) {
        throw new CriuFailure(ErrorReason.UnsupportedWorkload, tooLarge.getMessage(), tooLarge);
      }
      throw new CriuFailure(
          ErrorReason.Internal,
          "capturing the container's files while frozen failed: " + f.getMessage(),
          f);
    }
    if (dumpFailure != null) {
      throw dumpFailure;
    }
    if (!gate.ran()) {
      throw new CriuFailure(
          ErrorReason.CriuFailed, "criu dump succeeded without reaching its post-dump step");
    }
    return files;
  }

  /**
   * After an agent crash during a checkpoint of {@code target}: puts back what the interrupted dump
   * may have left on the tree ({@code frozen}, the tree as staged, else the target's tree now).
   */
  public TreeResumer.Undo undoInterrupted(ProcessTarget target, List<Integer> frozen) {
    List<Integer> pids = new ArrayList<>(frozen);
    try {
      int root =
          resolvePid(new CheckpointCommand(target, "recovery", true, Duration.ofSeconds(1), null));
      procfs.tree(root).stream().filter(p -> !pids.contains(p)).forEach(pids::add);
    } catch (CriuFailure gone) {
      // the target is gone: only the staged tree's PIDs are left to check
    }
    return resumer.undoDump(pids);
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
