package dev.warmstart.agent.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Seals a staged image and renames it into place: a new name never overwrites, a replace swaps the
 * complete new image and the old one in one rename (two, kept aside in between, where the file
 * system has no renameat2).
 */
final class ImageCommit {
  private final Path root;
  private final ObjectMapper json;

  ImageCommit(Path root, ObjectMapper json) {
    this.root = root;
    this.json = json;
  }

  StoredImage commit(
      ScratchDir staging, String name, boolean replace, UnaryOperator<Manifest> completeManifest)
      throws IOException, ImageExistsException {
    Path dir = staging.dir();
    List<Manifest.FileEntry> files = new ArrayList<>();
    long total = 0;
    List<Path> staged = ImageVerifier.listFiles(dir);
    for (Path f : staged) {
      if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("staged image holds " + f.getFileName() + ", not a regular file");
      }
      Files.setPosixFilePermissions(f, ImageStore.FILE_MODE);
    }
    files.addAll(ImageDigests.of(dir, staged));
    for (Manifest.FileEntry f : files) {
      total += f.size();
    }
    Manifest draft = Manifest.builder(name).files(files, total).build();
    Manifest manifest = completeManifest.apply(draft);
    byte[] bytes = json.writeValueAsBytes(manifest);
    Path manifestFile = dir.resolve(Manifest.FILE_NAME);
    Files.write(manifestFile, bytes);
    Files.setPosixFilePermissions(manifestFile, ImageStore.FILE_MODE);
    Path target = root.resolve(name);
    if (replace && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      // The old image is deleted once replaced: the new one must be on disk before that.
      Durable.syncTree(dir);
    } else {
      // A new name: the manifest and the directory are made durable; file data a power loss
      // takes away fails the manifest's digests (ImageIntegrityFailed), it never runs. Syncing a
      // GPU image's GiBs here would add seconds to every checkpoint.
      Durable.sync(manifestFile);
      Durable.sync(dir);
    }

    Renames.Result r = Renames.noReplace(dir, target);
    if (r == Renames.Result.TARGET_EXISTS) {
      if (!replace) {
        throw new ImageExistsException(name);
      }
      r = Renames.exchange(dir, target);
    }
    if (r == Renames.Result.UNSUPPORTED) {
      commitByMoves(dir, name, replace);
    }
    Durable.sync(root);
    Durable.sync(dir.getParent());
    return new StoredImage(name, target, manifest, ImageVerifier.manifestDigest(bytes));
  }

  /** For file systems without renameat2: two renames, the old image kept aside in between. */
  private void commitByMoves(Path staged, String name, boolean replace)
      throws IOException, ImageExistsException {
    Path target = root.resolve(name);
    if (!Files.exists(target)) {
      ImageStore.move(staged, target);
      return;
    }
    if (!replace) {
      throw new ImageExistsException(name);
    }
    try (ScratchDir aside =
        ScratchDir.create(root.resolve(ImageStore.TRASH), ImageStore.REPLACED + name + ".")) {
      Path old = aside.dir().resolve(ImageStore.TRASHED_IMAGE);
      ImageStore.move(target, old);
      try {
        ImageStore.move(staged, target);
      } catch (IOException e) {
        ImageStore.move(old, target); // put the last good image back
        throw e;
      }
    }
  }

  /**
   * A replace on a file system without renameat2 moves the old image aside first; a process that
   * died before moving the new one in leaves the name empty: the old image goes back.
   */
  void salvageReplaced(Path stale) throws IOException {
    String dirName = stale.getFileName().toString();
    Path old = stale.resolve(ImageStore.TRASHED_IMAGE);
    if (dirName.startsWith(ImageStore.REPLACED) && Files.isDirectory(old)) {
      Path target =
          root.resolve(dirName.substring(ImageStore.REPLACED.length(), dirName.lastIndexOf('.')));
      if (!Files.exists(target)) {
        ImageStore.move(old, target);
      }
    }
  }
}
