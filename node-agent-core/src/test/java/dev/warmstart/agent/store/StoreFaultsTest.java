package dev.warmstart.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tampered store never yields an image that runs (docs/guarantees.md G6): links are not followed,
 * a manifest copied from another image is refused, and what a restore reads is what was verified.
 */
class StoreFaultsTest {
  @TempDir Path root;
  @TempDir Path elsewhere;

  private static final UnaryOperator<Manifest> AS_IS = m -> m;

  private static void commit(ImageStore store, String name, String pages) throws Exception {
    try (ScratchDir staging = store.stage(name)) {
      Files.writeString(staging.dir().resolve("pages-1.img"), pages);
      Files.writeString(staging.dir().resolve("core-1.img"), "core of " + name);
      store.commit(staging, name, false, AS_IS);
    }
  }

  @Test
  void aSymlinkedImageDirectoryIsRefused() throws Exception {
    ImageStore store = new ImageStore(root);
    commit(store, "real", "pages");
    Files.createSymbolicLink(root.resolve("linked"), root.resolve("real"));
    assertThatThrownBy(() -> store.open("linked"))
        .isInstanceOf(ImageIntegrityException.class)
        .hasMessageContaining("symbolic link");
  }

  @Test
  void aSymlinkedImageFileIsRefused() throws Exception {
    ImageStore store = new ImageStore(root);
    commit(store, "app", "pages");
    Path same = elsewhere.resolve("pages"); // same content and size, outside the store
    Files.writeString(same, "pages");
    Files.delete(root.resolve("app/pages-1.img"));
    Files.createSymbolicLink(root.resolve("app/pages-1.img"), same);
    assertThatThrownBy(() -> store.open("app")).isInstanceOf(ImageIntegrityException.class);
    assertThatThrownBy(
            () -> store.openForRestore("app", Files.createDirectory(elsewhere.resolve("view"))))
        .isInstanceOf(ImageIntegrityException.class)
        .hasMessageContaining("not a regular file");
  }

  @Test
  void aSymlinkedStagingFolderIsRefused() throws Exception {
    new ImageStore(root);
    Files.delete(root.resolve(".staging"));
    Files.createSymbolicLink(root.resolve(".staging"), elsewhere);
    assertThatThrownBy(() -> new ImageStore(root)).hasMessageContaining("symbolic link");
  }

  @Test
  void aManifestCopiedFromAnotherImageIsRefused() throws Exception {
    ImageStore store = new ImageStore(root);
    commit(store, "a", "pages of a");
    Files.createDirectory(root.resolve("b"));
    try (Stream<Path> files = Files.list(root.resolve("a"))) {
      for (Path f : files.toList()) {
        Files.copy(f, root.resolve("b").resolve(f.getFileName()));
      }
    }
    assertThatThrownBy(() -> store.open("b"))
        .isInstanceOf(ImageIntegrityException.class)
        .hasMessageContaining("names image 'a'");
  }

  @Test
  void aRestoreReadsTheFilesItVerifiedEvenIfTheStoreIsSwappedAfterwards() throws Exception {
    ImageStore store = new ImageStore(root);
    commit(store, "app", "the verified pages");
    Path view = Files.createDirectory(root.resolve(".work").resolve("view"));
    OpenedImage opened = store.openForRestore("app", view);
    // Swapped right after verification began: another file renamed over the page file.
    Path evil = root.resolve("app").resolve("evil");
    Files.writeString(evil, "tampered pages!!!!");
    Files.move(evil, root.resolve("app/pages-1.img"), StandardCopyOption.REPLACE_EXISTING);

    opened.pages().awaitVerified(Duration.ofSeconds(30)); // what CRIU gets is still proven
    assertThat(opened.files()).isEqualTo(view);
    assertThat(Files.readString(view.resolve("pages-1.img"))).isEqualTo("the verified pages");
    assertThat(opened.image().dir()).isEqualTo(root.resolve("app"));
  }

  @Test
  void aPageFileWrittenInPlaceAfterVerificationFailsItsCheck() throws Exception {
    ImageStore store = new ImageStore(root);
    commit(store, "app", "the verified pages");
    Path view = Files.createDirectory(root.resolve(".work").resolve("view"));
    OpenedImage opened = store.openForRestore("app", view);
    opened.pages().awaitVerified(Duration.ofSeconds(30));
    Thread.sleep(20); // a later change time
    Files.writeString(root.resolve("app/pages-1.img"), "the tampered page"); // same inode
    assertThatThrownBy(() -> opened.pages().awaitVerified(Duration.ofSeconds(30)))
        .isInstanceOf(ImageIntegrityException.class)
        .hasMessageContaining("replaced or modified");
  }
}
