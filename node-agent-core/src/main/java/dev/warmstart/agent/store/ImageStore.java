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
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
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
  static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
  static final String STAGING = ".staging";
  static final String TRASH = ".trash";
  static final String WORK = ".work";
  static final String REPLACED = "replaced-";
  static final String TRASHED_IMAGE = "image";

  private final Path root;
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final PendingCheckpoints pendings;
  private final ImageCommit commits;
  private final ImageVerifier verifier;
  private final ImageCatalog catalog;

  /** Makes the first restore's digest check as fast as later ones (see ImageDigests#warmUp). */
  public static void warmUpDigests() {
    ImageDigests.warmUp();
  }

  public ImageStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize(); // CRIU runs in other directories
    this.pendings = new PendingCheckpoints(this.root.resolve(STAGING), json);
    this.commits = new ImageCommit(this.root, json);
    this.verifier = new ImageVerifier(this.root, json);
    this.catalog = new ImageCatalog(this.root, json);
    for (Path dir : List.of(root, root.resolve(STAGING), root.resolve(TRASH), root.resolve(WORK))) {
      if (!dir.equals(this.root) && Files.isSymbolicLink(dir)) {
        // CRIU and the sweep would write and delete wherever it points.
        throw new IOException(dir + " is a symbolic link: the store refuses to follow it");
      }
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
        ScratchDir.sweep(
            root.resolve(dir),
            TRASH.equals(dir) ? commits::salvageReplaced : d -> {},
            STAGING.equals(dir) ? d -> pendings.of(d).isPresent() : d -> false);
      } catch (IOException | UncheckedIOException e) {
        // Another process removed the same leftover meanwhile; the next start tries again.
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

  /**
   * Records beside {@code staging} which operation stages it and the manifest it will get: an agent
   * that dies during the dump finds it at its next start ({@link #staged}) instead of the sweep
   * removing it.
   */
  public void markPending(ScratchDir staging, PendingCheckpoint pending) throws IOException {
    pendings.mark(staging, pending);
  }

  /** The staged images a dead agent left for {@code operationId}, taken over by the caller. */
  public List<StagedCheckpoint> staged(String operationId) throws IOException {
    return pendings.staged(operationId);
  }

  /** Commits a complete staged image a dead agent left, with the manifest it recorded. */
  public StoredImage commitRecovered(ScratchDir staging, PendingCheckpoint pending)
      throws IOException, ImageExistsException {
    Manifest m = pending.manifest();
    return commit(
        staging,
        pending.imageName(),
        pending.replace(),
        draft ->
            draft.toBuilder()
                .createdAt(m.createdAt())
                .node(m.node())
                .criuVersion(m.criuVersion())
                .source(m.source())
                .timings(java.util.Map.of())
                .labels(m.labels())
                .gpu(m.gpu())
                .build());
  }

  /** Removes every staged image no live process works on, recoverable or not. */
  public void sweepStaging() {
    try {
      ScratchDir.sweep(root.resolve(STAGING), d -> {});
    } catch (IOException | UncheckedIOException e) {
      // tried again at the next start
    }
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
    return commits.commit(staging, name, replace, completeManifest);
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
    return verifier.open(name, root.resolve(name));
  }

  /**
   * Opens a committed image for a restore as {@link #openDeferringPages}, but through {@code view}:
   * an empty directory on the store's file system that gets a hard link to each image file before
   * anything is checked. Everything is verified through these links, and CRIU is given {@code
   * view}: an image file renamed or swapped in the store after this call changes nothing that is
   * restored, and one written in place fails the page files' identity check.
   */
  public OpenedImage openForRestore(String name, Path view)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    requireValidName(name);
    return verifier.openForRestore(name, view);
  }

  /**
   * For an activation, which reads a few files of an image restored earlier: the manifest must
   * still be the one that restore verified ({@code expectedDigest}; null: not compared), and the
   * files {@code which} selects are checked against it now.
   */
  public void verifyFiles(String name, String expectedDigest, Predicate<String> which)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    requireValidName(name);
    verifier.verifyFiles(name, expectedDigest, which);
  }

  /**
   * An image's manifest alone, not checked against the files: for decisions that do not read the
   * image's data (activating a prepared restore).
   */
  public Manifest manifest(String name) throws ImageNotFoundException, IOException {
    requireValidName(name);
    return catalog.manifest(name);
  }

  /** Manifests of the readable images, by name. */
  public List<Manifest> list() throws IOException {
    return catalog.list();
  }

  /** Every image directory by name, broken ones (no readable manifest) with the reason. */
  public List<ImageEntry> entries() throws IOException {
    return catalog.entries();
  }

  /** Disk use of the store: images, work in progress and the space left. */
  public StoreUsage usage() throws IOException {
    return catalog.usage();
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

  public static void requireValidName(String name) {
    if (name == null || !NAME.matcher(name).matches() || name.contains("..")) {
      throw new IllegalArgumentException(
          "image name '"
              + name
              + "' is not valid: use lowercase letters, digits, '.', '-', '_' (max 253)");
    }
  }

  static void move(Path from, Path to) throws IOException {
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
