package dev.warmstart.agent.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoint images on the node's disk. An image is written into a staging directory and renamed
 * into place only once complete, with a manifest of every file's sha256; every open verifies it.
 * Directories are 0700 and files 0600: images hold process memory, secrets included. A failed new
 * checkpoint never replaces or deletes the last good image of that name, and an existing image is
 * replaced only when asked. Staging copies and work directories are removed when their work ends
 * and, after a crash, the next time the store is opened.
 */
public final class ImageStore {
  private static final Pattern NAME = Pattern.compile("^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$");
  private static final Set<PosixFilePermission> DIR_MODE =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE =
      PosixFilePermissions.fromString("rw-------");
  private static final String STAGING = ".staging";
  private static final String TRASH = ".trash";
  private static final String WORK = ".work";
  private static final String REPLACED = "replaced-";
  private static final String TRASHED_IMAGE = "image";

  /** CRIU's page images: copied into the restored memory, never parsed. */
  // Bulk data checked in the background: CRIU's page files, and the GPU memory shim's payload
  // (gpumem/<pid>/data-<n>.bin, which the shim also checks chunk by chunk against its index).
  private static final Pattern PAGES =
      Pattern.compile("^(pages-[0-9]+\\.img|gpumem/[0-9]+/data-[0-9]+\\.bin)$");

  private final Path root;
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Makes the first restore's digest check as fast as later ones (see ImageDigests#warmUp). */
  public static void warmUpDigests() {
    ImageDigests.warmUp();
  }

  public ImageStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize(); // CRIU runs in other directories
    for (Path dir : List.of(root, root.resolve(STAGING), root.resolve(TRASH), root.resolve(WORK))) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, DIR_MODE);
    }
    sweep();
  }

  /**
   * Removes what dead processes left: an interrupted checkpoint's staging copy, a restore's work
   * files, a half-deleted image. Work of live processes (the agent and the CLI may share this
   * store) is recognised by its lock and left alone.
   */
  private void sweep() {
    for (String dir : List.of(STAGING, WORK, TRASH)) {
      try {
        ScratchDir.sweep(root.resolve(dir), TRASH.equals(dir) ? this::salvageReplaced : d -> {});
      } catch (IOException | UncheckedIOException e) {
        // Another process removed the same leftover meanwhile; the next start tries again.
      }
    }
  }

  /**
   * A replace on a file system without renameat2 moves the old image aside first; a process that
   * died before moving the new one in leaves the name empty: the old image goes back.
   */
  private void salvageReplaced(Path stale) throws IOException {
    String dirName = stale.getFileName().toString();
    Path old = stale.resolve(TRASHED_IMAGE);
    if (dirName.startsWith(REPLACED) && Files.isDirectory(old)) {
      Path target = root.resolve(dirName.substring(REPLACED.length(), dirName.lastIndexOf('.')));
      if (!Files.exists(target)) {
        move(old, target);
      }
    }
  }

  public Path root() {
    return root;
  }

  /**
   * A fresh private directory to write an image of {@code name} into; closing it removes whatever
   * is still there (after a failure: the partial image).
   */
  public ScratchDir stage(String name) throws IOException {
    requireValidName(name);
    return ScratchDir.create(root.resolve(STAGING), name + ".");
  }

  /** A private work directory for a restore (CRIU's log, pid file); closing it removes it. */
  public ScratchDir workDir() throws IOException {
    return ScratchDir.create(root.resolve(WORK), "restore-");
  }

  /** Whether an image directory of that name exists, readable or not. */
  public boolean exists(String name) {
    requireValidName(name);
    return Files.exists(root.resolve(name));
  }

  /**
   * Seals a staged image: digests every file, writes the manifest (filled in by {@code
   * completeManifest} with files and size), then renames it into place. An image of the same name
   * is refused unless {@code replace}; then the complete new image and the old one swap places in
   * one rename, and the old one is removed when {@code staging} is closed.
   */
  public StoredImage commit(
      ScratchDir staging, String name, boolean replace, UnaryOperator<Manifest> completeManifest)
      throws IOException, ImageExistsException {
    requireValidName(name);
    Path dir = staging.dir();
    List<Manifest.FileEntry> files = new ArrayList<>();
    long total = 0;
    List<Path> staged = listFiles(dir);
    for (Path f : staged) {
      Files.setPosixFilePermissions(f, FILE_MODE);
    }
    files.addAll(ImageDigests.of(dir, staged));
    for (Manifest.FileEntry f : files) {
      total += f.size();
    }
    Manifest draft =
        new Manifest(
            Manifest.FORMAT_VERSION, name, null, null, null, null, files, total, null, null, null);
    Manifest manifest = completeManifest.apply(draft);
    byte[] bytes = json.writeValueAsBytes(manifest);
    Path manifestFile = dir.resolve(Manifest.FILE_NAME);
    Files.write(manifestFile, bytes);
    Files.setPosixFilePermissions(manifestFile, FILE_MODE);

    Path target = root.resolve(name);
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
    return new StoredImage(name, target, manifest, "sha256:" + Sha256.of(bytes));
  }

  /** For file systems without renameat2: two renames, the old image kept aside in between. */
  private void commitByMoves(Path staged, String name, boolean replace)
      throws IOException, ImageExistsException {
    Path target = root.resolve(name);
    if (!Files.exists(target)) {
      move(staged, target);
      return;
    }
    if (!replace) {
      throw new ImageExistsException(name);
    }
    try (ScratchDir aside = ScratchDir.create(root.resolve(TRASH), REPLACED + name + ".")) {
      Path old = aside.dir().resolve(TRASHED_IMAGE);
      move(target, old);
      try {
        move(staged, target);
      } catch (IOException e) {
        move(old, target); // put the last good image back
        throw e;
      }
    }
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

  /** Manifests of the readable images, by name. */
  public List<Manifest> list() throws IOException {
    return entries().stream().filter(e -> !e.broken()).map(ImageEntry::manifest).toList();
  }

  /** Every image directory by name, broken ones (no readable manifest) with the reason. */
  public List<ImageEntry> entries() throws IOException {
    List<ImageEntry> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
        String name = d.getFileName().toString();
        if (name.startsWith(".")) {
          continue;
        }
        Path m = d.resolve(Manifest.FILE_NAME);
        long bytes = bytesUnder(d);
        if (!Files.isRegularFile(m)) {
          out.add(new ImageEntry(name, bytes, null, "manifest.json is missing"));
          continue;
        }
        try {
          out.add(new ImageEntry(name, bytes, json.readValue(m.toFile(), Manifest.class), null));
        } catch (IOException e) {
          String why = e instanceof JsonProcessingException j ? jsonProblem(j) : e.getMessage();
          out.add(
              new ImageEntry(name, bytes, null, "manifest.json is not valid: " + firstLine(why)));
        }
      }
    }
    return out;
  }

  /** Disk use of the store: images, work in progress and the space left. */
  public StoreUsage usage() throws IOException {
    List<ImageEntry> images = entries();
    long inProgress = 0;
    for (String dir : List.of(STAGING, WORK, TRASH)) {
      inProgress += bytesUnder(root.resolve(dir));
    }
    return new StoreUsage(
        root.toString(),
        images.size(),
        (int) images.stream().filter(ImageEntry::broken).count(),
        images.stream().mapToLong(ImageEntry::diskBytes).sum(),
        inProgress,
        Files.getFileStore(root).getUsableSpace());
  }

  /** Deletes a committed image, broken or not; false if there was none. */
  public boolean delete(String name) throws IOException {
    requireValidName(name);
    Path dir = root.resolve(name);
    if (!Files.exists(dir)) {
      return false;
    }
    try (ScratchDir trash = ScratchDir.create(root.resolve(TRASH), name + ".")) {
      move(dir, trash.dir().resolve(TRASHED_IMAGE));
    }
    return true;
  }

  private static long bytesUnder(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      long sum = 0;
      for (Path p : s.toList()) {
        try {
          sum += Files.isRegularFile(p) ? Files.size(p) : 0;
        } catch (NoSuchFileException e) {
          // removed by its owner meanwhile
        }
      }
      return sum;
    } catch (NoSuchFileException | UncheckedIOException e) {
      return 0; // the folder went away while being measured (finished work)
    }
  }

  /** Jackson's message without its source excerpt, and where in the file. */
  private static String jsonProblem(JsonProcessingException e) {
    String what =
        String.valueOf(e.getOriginalMessage()).replaceAll("\\s*\\(start marker at .*", "");
    return e.getLocation() == null
        ? what
        : what
            + " at line "
            + e.getLocation().getLineNr()
            + ", column "
            + e.getLocation().getColumnNr();
  }

  private static String firstLine(String s) {
    String t = String.valueOf(s).strip();
    int nl = t.indexOf('\n');
    return nl < 0 ? t : t.substring(0, nl);
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
