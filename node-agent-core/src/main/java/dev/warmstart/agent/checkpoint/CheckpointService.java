package dev.warmstart.agent.checkpoint;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.core.Timings;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.gpu.CudaReport;
import dev.warmstart.agent.gpu.FreshDriver;
import dev.warmstart.agent.gpu.GpuProbe;
import dev.warmstart.agent.gpumem.GpuMemoryPayload;
import dev.warmstart.agent.hooks.WorkloadHook;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.rootfs.FrozenCapture;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.store.ImageExistsException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.PendingCheckpoint;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.agent.transfer.ImageTransfers;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.GpuInfo;
import dev.warmstart.api.agent.ProcessTarget;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
  private final CheckpointTargets targets;
  private final FrozenDump dump;
  private final TreeInspector inspector;
  private final TreeResumer resumer;
  private final Clock clock;
  private final String nodeName;
  private final GpuProbe gpuProbe;
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
    this.dump = new FrozenDump(criu, layerSettings);
    this.transfers = new ImageTransfers(containers);
    this.store = store;
    this.procfs = procfs;
    this.targets = new CheckpointTargets(procfs, containers);
    this.inspector = new TreeInspector(procfs);
    this.resumer = new TreeResumer(procfs, freshDriver);
    this.clock = clock;
    this.nodeName = nodeName;
    this.gpuProbe = gpuProbe;
    this.gpuMemory = new GpuMemoryPayload(procfs);
  }

  public StoredImage checkpoint(CheckpointCommand cmd, Progress progress) throws OperationFailure {
    Timings timings = new Timings();
    long t = System.nanoTime();
    progress.step("inspect");
    ImageStore.requireValidName(cmd.imageName());
    int pid = targets.rootPid(cmd.target());
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
      throw new OperationFailure(
          ErrorReason.ProcessNotFound, "process " + pid + " vanished: " + e.getMessage(), e);
    }
    GpuInfo probed = gpuProbe.inspect(layout.source().processes()).orElse(null);
    timings.record("inspect", t);

    if (!cmd.replace() && store.exists(cmd.imageName())) {
      // Refused before anything is frozen; the commit checks again, atomically.
      throw new OperationFailure(
          ErrorReason.ImageExists, new ImageExistsException(cmd.imageName()).getMessage());
    }
    ScratchDir staging;
    try {
      staging = store.stage(cmd.imageName());
    } catch (IOException e) {
      throw new OperationFailure(
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
                Manifest.builder(cmd.imageName())
                    .createdAt(clock.instant().toString())
                    .node(nodeName)
                    .criuVersion(criuVersion)
                    .source(layout.source())
                    .labels(Map.copyOf(cmd.labels()))
                    .gpu(probed)
                    .build()));
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
      FrozenCapture files;
      try {
        files = dump.dump(cmd, layout, staging);
      } catch (OperationFailure | IOException | RuntimeException e) {
        // The shim's payload leaves with the staging directory: the tree (resumed first, so that
        // the shim's thread can answer) gets its GPU memory back before that.
        undone = resumer.undoDump(layout.source().processes());
        String back = gpuMemory.putBackQuietly(gpuMemoryOut, cmd.timeout());
        if (back.isEmpty()) {
          throw e;
        }
        throw new OperationFailure(
            e instanceof OperationFailure f ? f.reason() : ErrorReason.Internal,
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
                  draft.toBuilder()
                      .createdAt(clock.instant().toString())
                      .node(nodeName)
                      .criuVersion(criuVersion)
                      .source(layout.source())
                      .timings(partial)
                      .labels(cmd.labels() == null ? Map.of() : Map.copyOf(cmd.labels()))
                      .gpu(recorded)
                      .writableLayer(files.layer())
                      .externalFiles(files.stamps())
                      .build());
      timings.record("store", t);
      if (cmd.exportTo() != null) {
        // The tree runs again (or is gone): copying to the volume freezes nothing.
        progress.step("export");
        transfers.export(image, cmd.exportTo());
      }
      return image;
    } catch (OperationFailure | ImageExistsException | IOException | RuntimeException e) {
      // Closing the staging directory (above) removed the partial image. CRIU undoes a failed or
      // stopped dump itself; check that it did, and put back what a killed CRIU left.
      TreeResumer.Undo undo =
          undone != null ? undone : resumer.undoDump(layout.source().processes());
      if (e instanceof OperationFailure f) {
        throw new OperationFailure(f.reason(), f.getMessage() + "; " + undo.describe(), f);
      }
      if (e instanceof ImageExistsException x) {
        throw new OperationFailure(ErrorReason.ImageExists, x.getMessage(), x);
      }
      if (e instanceof IOException io) {
        boolean full = String.valueOf(io.getMessage()).contains("No space left");
        throw new OperationFailure(
            full ? ErrorReason.NoSpace : ErrorReason.Internal,
            "storing the image failed: " + io.getMessage(),
            io);
      }
      throw (RuntimeException) e;
    }
  }

  /**
   * After an agent crash during a checkpoint of {@code target}: puts back what the interrupted dump
   * may have left on the tree ({@code frozen}, the tree as staged, else the target's tree now).
   */
  public TreeResumer.Undo undoInterrupted(ProcessTarget target, List<Integer> frozen) {
    List<Integer> pids = new ArrayList<>(frozen);
    try {
      int root = targets.rootPid(target);
      procfs.tree(root).stream().filter(p -> !pids.contains(p)).forEach(pids::add);
    } catch (OperationFailure gone) {
      // the target is gone: only the staged tree's PIDs are left to check
    }
    return resumer.undoDump(pids);
  }
}
