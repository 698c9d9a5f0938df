package dev.warmstart.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store's own rules on a real file system; CRIU-made images are in the ITs. */
class ImageStoreTest {
  @TempDir Path root;

  private static final UnaryOperator<Manifest> AS_IS = m -> m;

  private StoredImage commit(ImageStore store, String name, String content, boolean replace)
      throws Exception {
    try (ScratchDir staging = store.stage(name)) {
      Files.writeString(staging.dir().resolve("pages-1.img"), content);
      return store.commit(staging, name, replace, AS_IS);
    }
  }

  @Test
  void allStoreFoldersArePrivate() throws Exception {
    new ImageStore(root);
    for (String dir : new String[] {"", ".staging", ".work", ".trash"}) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(dir))))
          .as("'%s'", dir)
          .isEqualTo("rwx------");
    }
  }

  @Test
  void anExistingNameIsKeptUnlessReplacedAndNothingIsLeftEitherWay() throws Exception {
    ImageStore store = new ImageStore(root);
    String first = commit(store, "app", "one", false).digest();
    assertThatThrownBy(() -> commit(store, "app", "two", false))
        .isInstanceOf(ImageExistsException.class)
        .hasMessageContaining("--replace");
    assertThat(store.open("app").digest()).isEqualTo(first);
    assertThat(Files.readString(root.resolve("app/pages-1.img"))).isEqualTo("one");

    String second = commit(store, "app", "three", true).digest();
    assertThat(second).isNotEqualTo(first);
    assertThat(store.open("app").digest()).isEqualTo(second);
    assertThat(Files.readString(root.resolve("app/pages-1.img"))).isEqualTo("three");
    assertThat(leftovers()).isEmpty();
  }

  @Test
  void openingTheStoreRemovesDeadProcessesLeftoversAndKeepsLiveWork() throws Exception {
    ImageStore store = new ImageStore(root);
    try (ScratchDir live = store.stage("live")) {
      // A dead process's staging copy (its lock file is there, nobody holds it) and a restore
      // work directory from a version without locks.
      Path dead = Files.createDirectory(root.resolve(".staging/big.1234"));
      Files.writeString(dead.resolve("pages-1.img"), "x".repeat(4096));
      Files.createFile(root.resolve(".staging/big.1234.lock"));
      Files.createDirectory(root.resolve(".work/restore-5678"));
      assertThat(store.usage().inProgressBytes()).isGreaterThanOrEqualTo(4096);

      new ImageStore(root); // the agent's start, or the next CLI command

      assertThat(dead).doesNotExist();
      assertThat(root.resolve(".staging/big.1234.lock")).doesNotExist();
      assertThat(root.resolve(".work/restore-5678")).doesNotExist();
      assertThat(live.dir()).exists();
    }
    assertThat(leftovers()).isEmpty();
  }

  @Test
  void anOldImageMovedAsideByAnInterruptedReplaceComesBack() throws Exception {
    ImageStore store = new ImageStore(root);
    String digest = commit(store, "app.v1", "one", false).digest();
    // Without renameat2 a replace moves the old image aside first; the process died right then.
    Path aside = Files.createDirectory(root.resolve(".trash/replaced-app.v1.1234"));
    Files.move(root.resolve("app.v1"), aside.resolve("image"));

    new ImageStore(root);

    assertThat(store.open("app.v1").digest()).isEqualTo(digest);
    assertThat(leftovers()).isEmpty();
  }

  @Test
  void brokenImagesAreListedWithTheReason() throws Exception {
    ImageStore store = new ImageStore(root);
    commit(store, "good", "one", false);
    Files.createDirectory(root.resolve("nomanifest"));
    assertThat(store.list()).extracting(Manifest::name).containsExactly("good");
    assertThat(store.entries())
        .extracting(ImageEntry::name, ImageEntry::problem)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("good", null),
            org.assertj.core.groups.Tuple.tuple("nomanifest", "manifest.json is missing"));
    assertThat(store.usage().brokenImages()).isEqualTo(1);
    assertThat(store.delete("nomanifest")).isTrue();
    assertThat(leftovers()).isEmpty();
  }

  private java.util.List<String> leftovers() throws Exception {
    java.util.List<String> found = new java.util.ArrayList<>();
    for (String dir : new String[] {".staging", ".work", ".trash"}) {
      try (Stream<Path> s = Files.list(root.resolve(dir))) {
        s.forEach(p -> found.add(dir + "/" + p.getFileName()));
      }
    }
    return found;
  }
}
