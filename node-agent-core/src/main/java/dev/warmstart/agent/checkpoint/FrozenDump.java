package dev.warmstart.agent.checkpoint;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.criu.CriuRunner;
import dev.warmstart.agent.criu.DumpSpec;
import dev.warmstart.agent.rootfs.FrozenCapture;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.rootfs.LayerTooLargeException;
import dev.warmstart.agent.rootfs.PostDumpGate;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.util.Optional;

/**
 * The CRIU dump, with the container's writable layer and the stamps of files the image does not
 * carry taken while CRIU still holds the tree frozen (its post-dump notification).
 */
final class FrozenDump {
  private final CriuRunner criu;
  private final LayerSettings layerSettings;

  FrozenDump(CriuRunner criu, LayerSettings layerSettings) {
    this.criu = criu;
    this.layerSettings = layerSettings;
  }

  FrozenCapture dump(CheckpointCommand cmd, TreeInspector.Layout layout, ScratchDir staging)
      throws OperationFailure, IOException {
    int freezeSeconds = (int) Math.max(1, Math.min(cmd.timeout().toSeconds(), 3600));
    FrozenCapture files = FrozenCapture.prepare(layout.source(), staging.dir(), layerSettings);
    PostDumpGate gate = new PostDumpGate(files);
    OperationFailure dumpFailure = null;
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
    } catch (OperationFailure e) {
      dumpFailure = e;
    }
    if (gate.failure().isPresent()) {
      // CRIU failed the dump because of it and resumed the tree: report the cause.
      Exception f = gate.failure().get();
      if (f instanceof LayerTooLargeException tooLarge) {
        throw new OperationFailure(
            ErrorReason.UnsupportedWorkload, tooLarge.getMessage(), tooLarge);
      }
      throw new OperationFailure(
          ErrorReason.Internal,
          "capturing the container's files while frozen failed: " + f.getMessage(),
          f);
    }
    if (dumpFailure != null) {
      throw dumpFailure;
    }
    if (!gate.ran()) {
      throw new OperationFailure(
          ErrorReason.CriuFailed, "criu dump succeeded without reaching its post-dump step");
    }
    return files;
  }
}
