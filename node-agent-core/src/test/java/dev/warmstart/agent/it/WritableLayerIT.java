package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.rootfs.LayerArchive;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ProcessTarget;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that changed its container's root filesystem (an overlay, as containerd's snapshotter
 * gives it) is checkpointed with leaveRunning, keeps running and writing, and is restored into a
 * placeholder container of the same image: its mapped cache file, its unlinked temp file and its
 * log come back as they were at the checkpoint, and it continues. A file on a shared volume that
 * the original kept changing fails the restore with FileChanged before anything runs.
 */
class WritableLayerIT {
  private static final Duration T = Duration.ofMinutes(2);
  private static final String PLACEHOLDER = "ip link set lo up; exec sleep 1000000";
  @TempDir Path work;
  private Path image;
  private String suffix;

  @BeforeEach
  void image() throws Exception {
    assumeTrue(RuncContainer.available(), "runc and busybox-static are needed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "gcc builds the workload");
    TestEnv.criu();
    suffix = Long.toString(ProcessHandle.current().pid());
    // The container image: busybox, the workload, and a directory the workload replaces.
    image = RuncContainer.buildRootfs(work.resolve("image"), "image");
    Files.createDirectories(image.resolve("opt"));
    Files.writeString(image.resolve("opt/old"), "from the image\n");
    RuncContainer.exec(
        List.of(
            "gcc",
            "-O2",
            "-Wall",
            "-Werror",
            "-static",
            "-o",
            image.resolve("fidelity").toString(),
            TestEnv.workload("fidelity.c").toString()));
  }

  @Test
  void processThatChangedItsRootfsContinuesInPlaceholderWithItsFilesAsAtTheCheckpoint()
      throws Exception {
    AgentComponents agent = TestEnv.components(work.resolve("store"));
    try (RuncContainer a =
            RuncContainer.startOnOverlay(
                work, "ws-wl-src-" + suffix, List.of("/fidelity"), image, work.resolve("a-vol"));
        RuncContainer b =
            RuncContainer.startOnOverlay(
                work,
                "ws-wl-dst-" + suffix,
                List.of("sh", "-c", PLACEHOLDER),
                image,
                work.resolve("b-vol"))) {
      a.awaitLine("tick 3 ");
      // A file of the image deleted, a directory of the image replaced (opaque in the upper dir).
      a.exec("sh", "-c", "rm /www/index.html && rm -rf /opt && mkdir /opt && echo new > /opt/new");

      long t0 = System.nanoTime();
      StoredImage checkpoint =
          agent
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofContainer(a.id), "changed-rootfs", T)
                      .leaveRunning(true)
                      .build(),
                  Progress.NONE);
      long checkpointMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

      Manifest.WritableLayer layer = checkpoint.manifest().writableLayer();
      assertThat(layer.archive()).isEqualTo(LayerArchive.FILE_NAME);
      assertThat(layer.entries())
          .contains(
              new Manifest.LayerEntry("/cache/kernels.bin", "file", 65536),
              new Manifest.LayerEntry("/www/.wh.index.html", "whiteout", 0),
              new Manifest.LayerEntry("/opt/.wh..wh..opq", "opaque", 0))
          .anySatisfy(e -> assertThat(e.path()).isEqualTo("/var/log/app.log"));
      assertThat(checkpoint.manifest().files())
          .as("the layer is an image file with a digest like the others")
          .anySatisfy(
              f -> {
                assertThat(f.path()).isEqualTo(LayerArchive.FILE_NAME);
                assertThat(f.sha256()).hasSize(64);
              });
      assertThat(checkpoint.manifest().externalFiles())
          .as("the workload binary, from the image's own layer, is stamped")
          .anySatisfy(s -> assertThat(s.path()).isEqualTo("/fidelity"));
      long archiveBytes = Files.size(checkpoint.dir().resolve(LayerArchive.FILE_NAME));
      System.out.printf(
          "writable layer: %d files, %d bytes of file data, archive %d bytes, capture %d ms;"
              + " checkpoint %d ms%n",
          layer.entries().size(),
          layer.bytes(),
          archiveBytes,
          checkpoint.manifest().timings().get("writableLayer"),
          checkpointMs);

      // A keeps running and writing its own rootfs after the checkpoint.
      String aLater = a.awaitLine("tick 8 ");
      assertThat(aLater).contains("map=8 ");

      RestoreResult r =
          agent.restores().restore("changed-rootfs", Optional.of(b.id()), T, Progress.NONE);
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        lines.add(b.awaitLine("tick "));
      }
      int first = tick(lines.get(0));
      assertThat(first)
          .as("counting on from the checkpoint, not from A's later ticks")
          .isLessThan(8);
      for (String l : lines) {
        // The counter in the mapped file equals the one in memory: the file is the one captured
        // while the tree was frozen. The unlinked temp file still reads back.
        assertThat(l).contains("map=" + tick(l) + " ").contains("tmp=ok");
      }
      Path bRoot = b.bundle.resolve("rootfs");
      List<String> log = Files.readAllLines(bRoot.resolve("var/log/app.log"));
      for (int i = 0; i < log.size(); i++) {
        assertThat(log.get(i))
            .as("the log holds the ticks up to the checkpoint, then the restored process's")
            .isEqualTo("tick " + (i + 1));
      }
      assertThat(log.size()).isGreaterThanOrEqualTo(tick(lines.get(2)));
      assertThat(bRoot.resolve("www/index.html")).doesNotExist();
      assertThat(bRoot.resolve("opt/new")).hasContent("new");
      assertThat(bRoot.resolve("opt/old")).doesNotExist();
      assertThat(Files.exists(bRoot.resolve("tmp/scratch"), LinkOption.NOFOLLOW_LINKS))
          .as("the temp file is unlinked again (CRIU's ghost file)")
          .isFalse();

      b.kill();
      Workload.awaitGone(r.pid());
    }
  }

  @Test
  void fileOnAVolumeTheOriginalKeptChangingFailsTheRestoreWithFileChanged() throws Exception {
    AgentComponents agent = TestEnv.components(work.resolve("store"));
    Path shared = work.resolve("shared-vol"); // a hostPath or PVC both pods mount
    try (RuncContainer a =
            RuncContainer.startOnOverlay(
                work, "ws-wv-src-" + suffix, List.of("/fidelity", "volume"), image, shared);
        RuncContainer b =
            RuncContainer.startOnOverlay(
                work, "ws-wv-dst-" + suffix, List.of("sh", "-c", PLACEHOLDER), image, shared)) {
      a.awaitLine("tick 3 ");
      StoredImage checkpoint =
          agent
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofContainer(a.id), "changed-volume", T)
                      .leaveRunning(true)
                      .build(),
                  Progress.NONE);
      assertThat(checkpoint.manifest().externalFiles())
          .anySatisfy(
              s -> {
                assertThat(s.path()).isEqualTo("/data/state");
                assertThat(s.mountPoint()).isEqualTo("/data");
                assertThat(s.appendOnly()).isFalse();
              });
      a.awaitLine("tick 6 "); // it rewrote /data/state since

      assertThatThrownBy(
              () ->
                  agent.restores().restore("changed-volume", Optional.of(b.id()), T, Progress.NONE))
          .isInstanceOfSatisfying(
              OperationFailure.class,
              f -> {
                assertThat(f.reason()).isEqualTo(ErrorReason.FileChanged);
                assertThat(f.getMessage()).contains("/data/state").contains("after the change");
              });
      assertThat(ProcessHandle.of(b.initPid()).orElseThrow().children())
          .as("nothing was restored into the placeholder")
          .isEmpty();
      assertThat(Files.exists(b.bundle.resolve("rootfs/cache/kernels.bin")))
          .as("nor its rootfs touched")
          .isFalse();
    }
  }

  private static int tick(String line) {
    return Integer.parseInt(line.split(" ")[1]);
  }
}
