package dev.warmstart.agent.rootfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.store.Manifest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writable-layer archive: capture from an upper directory, apply onto a root filesystem. */
class LayerArchiveTest {
  @TempDir Path dir;

  @Test
  void upperDirIsTheTopmostRootMountsUpperdirOption() {
    String plain = "20 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw";
    String overlay =
        "640 20 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/l1:/l2,"
            + "upperdir=/var/lib/containerd/snap\\054shots/7/fs,workdir=/w,uuid=on";
    String data = "641 640 0:51 / /data rw - ext4 /dev/sdb rw";
    assertThat(OverlayRoot.upperDir(List.of(plain, overlay, data)))
        .contains(Path.of("/var/lib/containerd/snap,shots/7/fs"));
    assertThat(OverlayRoot.upperDir(List.of(plain, data))).isEmpty();
  }

  @Test
  void applyReplacesDeletesAndEmptiesOpaqueDirectories() throws IOException {
    Path root = Files.createDirectories(dir.resolve("root"));
    Files.createDirectories(root.resolve("www"));
    Files.writeString(root.resolve("www/index.html"), "image");
    Files.createDirectories(root.resolve("opt"));
    Files.writeString(root.resolve("opt/old"), "image");
    Files.writeString(root.resolve("kept"), "image");
    Path archive =
        tar(
            dir.resolve("a.tar"),
            dirEntry("www/"),
            file("www/.wh.index.html", ""),
            dirEntry("opt/"),
            file("opt/.wh..wh..opq", ""),
            file("opt/new", "layer"),
            dirEntry("cache/"),
            file("cache/k.bin", "kernel"));

    LayerArchive.apply(archive, root);

    assertThat(root.resolve("www/index.html")).doesNotExist();
    assertThat(root.resolve("opt/old")).doesNotExist();
    assertThat(root.resolve("opt/new")).hasContent("layer");
    assertThat(root.resolve("cache/k.bin")).hasContent("kernel");
    assertThat(root.resolve("kept")).hasContent("image");
  }

  @Test
  void applyRefusesPathsLeavingTheRootAndSymlinkedParents() throws IOException {
    Path root = Files.createDirectories(dir.resolve("root"));
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.createSymbolicLink(root.resolve("etc"), outside);

    assertThatThrownBy(
            () -> LayerArchive.apply(tar(dir.resolve("1.tar"), file("etc/passwd", "x")), root))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("/etc is a symlink");
    assertThatThrownBy(
            () -> LayerArchive.apply(tar(dir.resolve("2.tar"), file("../escape", "x")), root))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("outside the root");
    assertThat(outside.resolve("passwd")).doesNotExist();
    assertThat(dir.resolve("escape")).doesNotExist();
  }

  @Test
  void captureRoundTripsAnUpperDirWithWhiteoutsLinksAndExclusions() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "mknod needs root");
    Path upper = Files.createDirectories(dir.resolve("upper"));
    Files.createDirectories(upper.resolve("app"));
    Files.writeString(upper.resolve("app/model.bin"), "weights");
    Files.createLink(upper.resolve("app/alias.bin"), upper.resolve("app/model.bin"));
    Files.createSymbolicLink(upper.resolve("app/current"), Path.of("model.bin"));
    Files.createDirectories(upper.resolve("tmp"));
    Files.writeString(upper.resolve("tmp/junk"), "not wanted");
    Files.createDirectories(upper.resolve("www"));
    exec("mknod", upper.resolve("www/index.html").toString(), "c", "0", "0"); // a whiteout
    Files.setAttribute(upper.resolve("app/model.bin"), "unix:mode", 0640);

    Manifest.WritableLayer layer =
        LayerArchive.capture(
            upper, dir.resolve("rootfs-diff.tar"), new LayerSettings(1 << 20, List.of("/tmp")));

    assertThat(layer.bytes()).isEqualTo("weights".length());
    assertThat(layer.excluded()).containsExactly("/tmp");
    assertThat(layer.entries())
        .extracting(Manifest.LayerEntry::path, Manifest.LayerEntry::type)
        .contains(
            org.assertj.core.groups.Tuple.tuple("/www/.wh.index.html", "whiteout"),
            org.assertj.core.groups.Tuple.tuple("/app/current", "symlink"));
    assertThat(layer.entries()).filteredOn(e -> e.type().equals("hardlink")).hasSize(1);

    Path root = Files.createDirectories(dir.resolve("root"));
    Files.createDirectories(root.resolve("www"));
    Files.writeString(root.resolve("www/index.html"), "image");
    LayerArchive.apply(dir.resolve("rootfs-diff.tar"), root);
    assertThat(root.resolve("app/model.bin")).hasContent("weights");
    assertThat(Files.getAttribute(root.resolve("app/model.bin"), "unix:mode")).isEqualTo(0100640);
    assertThat(Files.getAttribute(root.resolve("app/alias.bin"), "unix:ino"))
        .isEqualTo(Files.getAttribute(root.resolve("app/model.bin"), "unix:ino"));
    assertThat(Files.readSymbolicLink(root.resolve("app/current"))).isEqualTo(Path.of("model.bin"));
    assertThat(root.resolve("www/index.html")).doesNotExist();
    assertThat(root.resolve("tmp")).doesNotExist();

    assertThatThrownBy(
            () ->
                LayerArchive.capture(
                    upper, dir.resolve("big.tar"), new LayerSettings(3, List.of())))
        .isInstanceOf(LayerTooLargeException.class)
        .hasMessageContaining("writable-layer.max-bytes");
    assertThat(dir.resolve("big.tar")).doesNotExist();
  }

  private record Entry(String name, String content) {}

  private static Entry dirEntry(String name) {
    return new Entry(name, null);
  }

  private static Entry file(String name, String content) {
    return new Entry(name, content);
  }

  private static Path tar(Path archive, Entry... entries) throws IOException {
    try (OutputStream out = Files.newOutputStream(archive);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      for (Entry e : entries) {
        TarArchiveEntry t = new TarArchiveEntry(e.name());
        byte[] data =
            e.content() == null ? new byte[0] : e.content().getBytes(StandardCharsets.UTF_8);
        if (e.content() != null) {
          t.setSize(data.length);
        }
        tar.putArchiveEntry(t);
        tar.write(data);
        tar.closeArchiveEntry();
      }
    }
    return archive;
  }

  private static void exec(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
    }
  }
}
