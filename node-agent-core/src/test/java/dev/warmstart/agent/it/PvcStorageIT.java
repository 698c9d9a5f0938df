package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.restore.RestoreCommand;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ImageTransfer;
import dev.warmstart.api.agent.ProcessTarget;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PersistentVolumeClaim storage with two agents standing in for two nodes (each its own image
 * store) and one directory standing in for the claim (what the kubelet mounts on both nodes for an
 * RWX claim, or on one node after the other for RWO). The checkpoint's agent exports the image
 * through a container that mounts the claim (the operator's storage pod); the other agent imports
 * it through the placeholder, which mounts the claim too, and restores from its own copy.
 */
class PvcStorageIT {
  private static final Duration T = Duration.ofMinutes(2);
  private static final String STORE = "/warmstart-store";
  @TempDir Path work;

  @Test
  void imageExportedToTheClaimIsRestoredByAnotherNodesAgentFromItsCheckedCopy() throws Exception {
    assumeTrue(RuncContainer.available(), "runc and busybox-static are needed");
    AgentComponents nodeA = TestEnv.components(work.resolve("node-a-store"));
    AgentComponents nodeB = TestEnv.components(work.resolve("node-b-store"));
    Path claim = Files.createDirectories(work.resolve("claim"));
    String sfx = Long.toString(ProcessHandle.current().pid());
    String placeholder = "ip link set lo up; exec sleep 1000000";
    StoredImage image;
    try (RuncContainer a = RuncContainer.start(work, "ws-pvc-src-" + sfx, List.of("/app.sh"));
        RuncContainer storagePod =
            RuncContainer.startWithMounts(
                work, "ws-pvc-store-" + sfx, List.of("sleep", "1000000"), Map.of(STORE, claim))) {
      a.awaitLine("tick 3 ");
      image =
          nodeA
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofContainer(a.id), "ml.shared", T)
                      .exportTo(new ImageTransfer(storagePod.id, STORE, "images", null))
                      .build(),
                  Progress.NONE);
    }
    Path onClaim = claim.resolve("images/ml.shared");
    assertThat(onClaim.resolve(Manifest.FILE_NAME)).exists();
    for (Manifest.FileEntry f : image.manifest().files()) {
      assertThat(Files.size(onClaim.resolve(f.path()))).as(f.path()).isEqualTo(f.size());
    }
    assertThat(nodeB.store().exists("ml.shared")).as("node B has no copy yet").isFalse();

    try (RuncContainer b =
        RuncContainer.startWithMounts(
            work, "ws-pvc-dst-" + sfx, List.of("sh", "-c", placeholder), Map.of(STORE, claim))) {
      RestoreResult r =
          nodeB
              .restores()
              .restore(
                  RestoreCommand.of("ml.shared", T)
                      .intoContainer(Optional.of(b.id))
                      .importFrom(new ImageTransfer(b.id, STORE, "images", image.digest()))
                      .build(),
                  Progress.NONE);
      assertThat(b.awaitLine("tick ")).contains("pid=1");
      assertThat(r.timings()).containsKey("import");
      assertThat(nodeB.store().open("ml.shared").digest())
          .as("node B restored from its own copy, the same image")
          .isEqualTo(image.digest());
      b.kill();
      Workload.awaitGone(r.pid());
    }

    // A copy on the claim that no longer matches its manifest is refused before anything runs.
    Manifest.FileEntry pages =
        image.manifest().files().stream()
            .filter(f -> f.path().startsWith("pages-"))
            .max(java.util.Comparator.comparingLong(Manifest.FileEntry::size))
            .orElseThrow();
    try (RandomAccessFile f = new RandomAccessFile(onClaim.resolve(pages.path()).toFile(), "rw")) {
      f.seek(pages.size() / 2);
      int b = f.read();
      f.seek(pages.size() / 2);
      f.write(b ^ 0xff);
    }
    AgentComponents nodeC = TestEnv.components(work.resolve("node-c-store"));
    try (RuncContainer c =
        RuncContainer.startWithMounts(
            work, "ws-pvc-c-" + sfx, List.of("sh", "-c", placeholder), Map.of(STORE, claim))) {
      for (String digest : List.of(image.digest(), "sha256:" + "0".repeat(64))) {
        assertThatThrownBy(
                () ->
                    nodeC
                        .restores()
                        .restore(
                            RestoreCommand.of("ml.shared", T)
                                .intoContainer(Optional.of(c.id))
                                .importFrom(new ImageTransfer(c.id, STORE, "images", digest))
                                .build(),
                            Progress.NONE))
            .isInstanceOfSatisfying(
                OperationFailure.class,
                e -> assertThat(e.reason()).isEqualTo(ErrorReason.ImageIntegrityFailed));
      }
      assertThat(nodeC.store().exists("ml.shared")).as("no bad copy kept").isFalse();
      assertThat(ProcessHandle.of(c.initPid()).orElseThrow().children()).isEmpty();
    }
  }
}
