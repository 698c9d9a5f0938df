package dev.warmstart.agent.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoint images on the node's disk. An image is written into a staging directory and renamed
 * into place only once complete, with a manifest of every file's sha256; every open verifies it.
 * Directories are 0700 and files 0600: images hold process memory, secrets included. A failed new
 * checkpoint never replaces or deletes the last good image of that name.
 */
public final class ImageStore {
  private static final Pattern NAME = Pattern.compile("^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$");
  private static final Set<PosixFilePermission> DIR_MODE =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE =
      PosixFilePermissions.fromString("rw-------");
  private static final String STAGING = ".staging";
  private static final String TRASH = ".trash";

  /** CRIU's page images: copied into the restored memory, never parsed. */
  private static final Pattern PAGES = Pattern.compile("^pages-[0-9]+\\.img$");

  private final Path root;
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Makes the first restore's digest check as fast as later ones (see ImageDigests#warmUp). */
  public static void warmUpDigests() {
    ImageDigests.warmUp();
  }

  public ImageStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize(); // CRIU runs in other directories
    for (Path dir : List.of(root, root.resolve(STAGING), root.resolve(TRASH))) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, DIR_MODE);
    }
  }

  public Path root() {
    return root;
  }

  /** A fresh private directory to write an image of {@code name} into. */
  public Path stage(String name) throws IOException {
    requireValidName(name);
    Path dir = root.resolve(STAGING).resolve(name + "." + UUID.randomUUID());
    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
    return dir;
  }

  /** Removes a staging directory after a failed checkpoint. */
  public void discard(Path staging) throws IOException {
    if (staging.startsWith(root.resolve(STAGING))) {
      deleteTree(staging);
    }
  }

  /**
   * Seals a staged image: digests every file, writes the manifest (filled in by {@code
   * completeManifest} with files and size), then renames it into place, replacing an older image of
   * the same name only now that the new one is complete.
   */
  public StoredImage commit(Path staging, String name, UnaryOperator<Manifest> completeManifest)
      throws IOException {
    requireValidName(name);
    List<Manifest.FileEntry> files = new ArrayList<>();
    long total = 0;
    List<Path> staged = listFiles(staging);
    for (Path f : staged) {
      Files.setPosixFilePermissions(f, FILE_MODE);
    }
    files.addAll(ImageDigests.of(staging, staged));
    for (Manifest.FileEntry f : files) {
      total += f.size();
    }
    Manifest draft =
        new Manifest(
            Manifest.FORMAT_VERSION, name, null, null, null, null, files, total, null, null, null);
    Manifest manifest = completeManifest.apply(draft);
    byte[] bytes = json.writeValueAsBytes(manifest);
    Path manifestFile = staging.resolve(Manifest.FILE_NAME);
    Files.write(manifestFile, bytes);
    Files.setPosixFilePermissions(manifestFile, FILE_MODE);

    Path target = root.resolve(name);
    Path old = null;
    if (Files.exists(target)) {
      old = root.resolve(TRASH).resolve(name + "." + UUID.randomUUID());
      move(target, old);
    }
    try {
      move(staging, target);
    } catch (IOException e) {
      if (old != null) {
        move(old, target); // put the last good image back
      }
      throw e;
    }
    if (old != null) {
      deleteTree(old);
    }
    return new StoredImage(name, target, manifest, "sha256:" + Sha256.of(bytes));
  }

  /** Opens a committed image after checking every file against its manifest. */
  public StoredImage open(String name)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    OpenedImage opened = openDeferringPages(name);
    opened.pages().awaitVerified(java.time.Duration.ofHours(1));
    return opened.image();
  }

  /**
   * Opens a committed image for a restore: the manifest, the file list and sizes and every file
   * CRIU parses are checked now; the page files ({@code pages-*.img}, the bulk of an image, which
   * CRIU only copies into memory) are hashed in the background, and the restored tree must not run
   * before {@link PageVerification#awaitVerified} has returned.
   */
  public OpenedImage openDeferringPages(String name)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    requireValidName(name);
    Path dir = root.resolve(name);
    Path manifestFile = dir.resolve(Manifest.FILE_NAME);
    if (!Files.isRegularFile(manifestFile)) {
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
    Set<String> listed = new HashSet<>();
    for (Manifest.FileEntry entry : manifest.files()) {
      listed.add(entry.path());
      Path f = dir.resolve(entry.path()).normalize();
      if (!f.startsWith(dir) || !Files.isRegularFile(f)) {
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
    StoredImage image = new StoredImage(name, dir, manifest, "sha256:" + Sha256.of(bytes));
    return new OpenedImage(
        image,
        pages.isEmpty() ? PageVerification.none(name) : PageVerification.start(name, dir, pages));
  }

  /**
   * An image's manifest alone, not checked against the files: for decisions that do not read the
   * image's data (activating a prepared restore).
   */
  public Manifest manifest(String name) throws ImageNotFoundException, IOException {
    requireValidName(name);
    Path manifestFile = root.resolve(name).resolve(Manifest.FILE_NAME);
    if (!Files.isRegularFile(manifestFile)) {
      throw new ImageNotFoundException(name);
    }
    return json.readValue(manifestFile.toFile(), Manifest.class);
  }

  /** Manifests of all committed images, by name; unreadable ones are skipped. */
  public List<Manifest> list() throws IOException {
    List<Manifest> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
        Path m = d.resolve(Manifest.FILE_NAME);
        if (!d.getFileName().toString().startsWith(".") && Files.isRegularFile(m)) {
          try {
            out.add(json.readValue(m.toFile(), Manifest.class));
          } catch (IOException e) {
            // a damaged manifest shows up as an integrity error on open, not here
          }
        }
      }
    }
    return out;
  }

  /** Deletes a committed image; false if there was none. */
  public boolean delete(String name) throws IOException {
    requireValidName(name);
    Path dir = root.resolve(name);
    if (!Files.exists(dir)) {
      return false;
    }
    Path trash = root.resolve(TRASH).resolve(name + "." + UUID.randomUUID());
    move(dir, trash);
    deleteTree(trash);
    return true;
  }

  public static void requireValidName(String name) {
    if (name == null || !NAME.matcher(name).matches() || name.contains("..")) {
      throw new IllegalArgumentException(
          "image name '"
              + name
              + "' is not valid: use lowercase letters, digits, '.', '-', '_' (max 253)");
    }
  }

  private static List<Path> listFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
      throw new IOException("cannot rename " + from + " to " + to + " atomically", e);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
