package dev.warmstart.agent.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Opens committed images only after checking them against their manifest: every listed file
 * present, of its size and digest (page files in the background), nothing unlisted, no links.
 */
final class ImageVerifier {
  /** CRIU's page images: copied into the restored memory, never parsed. */
  // Bulk data checked in the background: CRIU's page files, and the GPU memory shim's payload
  // (gpumem/<pid>/data-<n>.bin, which the shim also checks chunk by chunk against its index).
  private static final Pattern PAGES =
      Pattern.compile("^(pages-[0-9]+\\.img|gpumem/[0-9]+/data-[0-9]+\\.bin)$");

  private final Path root;
  private final ObjectMapper json;

  ImageVerifier(Path root, ObjectMapper json) {
    this.root = root;
    this.json = json;
  }

  OpenedImage openForRestore(String name, Path view)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    Path dir = root.resolve(name);
    requireRealDirectory(name, dir);
    // Files.walk does not follow links; directories (the GPU memory shim's payload) are made
    // anew in the view, so only regular files of the image are ever linked.
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.skip(1).toList()) {
        String file = dir.relativize(f).toString();
        if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectory(view.resolve(file));
          continue;
        }
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
          throw new ImageIntegrityException(
              "image '" + name + "': " + file + " is not a regular file");
        }
        if (file.equals("stats-restore")) {
          continue;
        }
        try {
          Files.createLink(view.resolve(file), f); // link(2): never follows a link
        } catch (java.nio.file.FileSystemException crossDevice) {
          // The image lives on another file system than the store's work area (a mounted
          // volume): no links, CRIU reads the image directory, still checked the same way.
          return open(name, dir);
        }
      }
    }
    return open(name, view);
  }

  private static void requireRealDirectory(String name, Path dir)
      throws ImageNotFoundException, ImageIntegrityException {
    if (Files.isSymbolicLink(dir)) {
      throw new ImageIntegrityException(
          "image '" + name + "': the image directory is a symbolic link");
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageNotFoundException(name);
    }
  }

  OpenedImage open(String name, Path dir)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    requireRealDirectory(name, root.resolve(name));
    Path manifestFile = dir.resolve(Manifest.FILE_NAME);
    if (Files.isSymbolicLink(manifestFile)) {
      throw new ImageIntegrityException("image '" + name + "': manifest.json is a symbolic link");
    }
    if (!Files.isRegularFile(manifestFile, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageNotFoundException(name);
    }
    byte[] bytes = Files.readAllBytes(manifestFile);
    Manifest manifest;
    try {
      manifest = json.readValue(bytes, Manifest.class);
    } catch (IOException e) {
      throw new ImageIntegrityException(
          "image '" + name + "': manifest.json is not valid: " + e.getMessage());
    }
    if (!name.equals(manifest.name())) {
      // A manifest (and its files) copied from another image: its digest is another image's.
      throw new ImageIntegrityException(
          "image '" + name + "': its manifest names image '" + manifest.name() + "'");
    }
    if (manifest.files() == null) {
      throw new ImageIntegrityException("image '" + name + "': manifest.json lists no files");
    }
    Set<String> listed = new HashSet<>();
    for (Manifest.FileEntry entry : manifest.files()) {
      listed.add(entry.path());
      requireListedFile(name, dir, entry);
    }
    List<Manifest.FileEntry> pages =
        manifest.files().stream().filter(e -> PAGES.matcher(e.path()).matches()).toList();
    List<Manifest.FileEntry> parsed =
        manifest.files().stream().filter(e -> !PAGES.matcher(e.path()).matches()).toList();
    ImageDigests.verify(name, dir, parsed);
    for (Path f : listFiles(dir)) {
      String rel = dir.relativize(f).toString();
      // CRIU writes stats-restore into the image directory on every restore.
      if (!rel.equals(Manifest.FILE_NAME)
          && !rel.equals("stats-restore")
          && !listed.contains(rel)) {
        throw new ImageIntegrityException(
            "image '" + name + "': unexpected file " + rel + " not in manifest");
      }
    }
    StoredImage image = new StoredImage(name, root.resolve(name), manifest, manifestDigest(bytes));
    return new OpenedImage(
        image,
        pages.isEmpty() ? PageVerification.none(name) : PageVerification.start(name, dir, pages),
        dir);
  }

  /** The manifest still the one a restore verified, and the files {@code which} selects. */
  void verifyFiles(String name, String expectedDigest, Predicate<String> which)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    Path dir = root.resolve(name);
    requireRealDirectory(name, dir);
    Path manifestFile = dir.resolve(Manifest.FILE_NAME);
    if (!Files.isRegularFile(manifestFile, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageNotFoundException(name);
    }
    byte[] bytes = Files.readAllBytes(manifestFile);
    String digest = manifestDigest(bytes);
    if (expectedDigest != null && !expectedDigest.equals(digest)) {
      throw new ImageIntegrityException(
          "image '"
              + name
              + "' was replaced after it was restored (digest "
              + digest
              + ", restored "
              + expectedDigest
              + ")");
    }
    Manifest manifest = json.readValue(bytes, Manifest.class);
    List<Manifest.FileEntry> chosen =
        manifest.files() == null
            ? List.of()
            : manifest.files().stream().filter(e -> which.test(e.path())).toList();
    for (Manifest.FileEntry e : chosen) {
      requireListedFile(name, dir, e);
    }
    ImageDigests.verify(name, dir, chosen);
  }

  /** An image's digest: its manifest's, which names every file's. */
  static String manifestDigest(byte[] manifestBytes) {
    return "sha256:" + Sha256.of(manifestBytes);
  }

  /** The file a manifest entry names: inside the image, a regular file, of its recorded size. */
  private static void requireListedFile(String name, Path dir, Manifest.FileEntry entry)
      throws ImageIntegrityException, IOException {
    Path f = dir.resolve(entry.path()).normalize();
    if (!f.startsWith(dir) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new ImageIntegrityException(
          "image '" + name + "': file " + entry.path() + " is missing");
    }
    long size = Files.size(f);
    if (size != entry.size()) {
      throw new ImageIntegrityException(
          "image '"
              + name
              + "': file "
              + entry.path()
              + " is "
              + size
              + " bytes, manifest says "
              + entry.size()
              + " (truncated or modified)");
    }
  }

  /** Every file under {@code dir} that is not a directory (links included: never followed). */
  static List<Path> listFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
    }
  }
}
