package dev.warmstart.agent.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
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
            TRASH.equals(dir) ? this::salvageReplaced : d -> {},
            STAGING.equals(dir) ? d -> pending(d).isPresent() : d -> false);
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

  /**
   * Records beside {@code staging} which operation stages it and the manifest it will get: an agent
   * that dies during the dump finds it at its next start ({@link #staged}) instead of the sweep
   * removing it.
   */
  public void markPending(ScratchDir staging, PendingCheckpoint pending) throws IOException {
    Path file = ScratchDir.pendingOf(staging.dir());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.write(tmp, json.writeValueAsBytes(pending));
    Durable.sync(tmp);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    Durable.sync(file.getParent());
  }

  private Optional<PendingCheckpoint> pending(Path stagingDir) {
    Path file = ScratchDir.pendingOf(stagingDir);
    try {
      PendingCheckpoint p = json.readValue(file.toFile(), PendingCheckpoint.class);
      return p.operationId() == null ? Optional.empty() : Optional.of(p);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** A staged image a dead agent left for {@code operationId}, taken over by the caller. */
  public record Staged(ScratchDir dir, PendingCheckpoint pending) {
    /** CRIU wrote every image file: the inventory is written last and the log says it ended. */
    public boolean complete() {
      Path d = dir.dir();
      try {
        return Files.isRegularFile(d.resolve("inventory.img"), LinkOption.NOFOLLOW_LINKS)
            && Files.readString(d.resolve("dump.log"), java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains("Dumping finished successfully");
      } catch (IOException e) {
        return false;
      }
    }
  }

  public List<Staged> staged(String operationId) throws IOException {
    List<Staged> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(root.resolve(STAGING))) {
      for (Path d : s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
        Optional<PendingCheckpoint> p = pending(d);
        if (p.isPresent() && operationId.equals(p.get().operationId())) {
          try {
            out.add(new Staged(ScratchDir.adopt(d), p.get()));
          } catch (IOException inUse) {
            // another live process holds it
          }
        }
      }
    }
    return out;
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
            new Manifest(
                draft.formatVersion(),
                draft.name(),
                m.createdAt(),
                m.node(),
                m.criuVersion(),
                m.source(),
                draft.files(),
                draft.sizeBytes(),
                java.util.Map.of(),
                m.labels(),
                m.gpu()));
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
    Path dir = staging.dir();
    List<Manifest.FileEntry> files = new ArrayList<>();
    long total = 0;
    List<Path> staged = listFiles(dir);
    for (Path f : staged) {
      if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("staged image holds " + f.getFileName() + ", not a regular file");
      }
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
    return new StoredImage(name, target, manifest, manifestDigest(bytes));
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
    return open(name, root.resolve(name));
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

  private OpenedImage open(String name, Path dir)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    requireValidName(name);
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

  /**
   * For an activation, which reads a few files of an image restored earlier: the manifest must
   * still be the one that restore verified ({@code expectedDigest}; null: not compared), and the
   * files {@code which} selects are checked against it now.
   */
  public void verifyFiles(String name, String expectedDigest, Predicate<String> which)
      throws ImageNotFoundException, ImageIntegrityException, IOException {
    requireValidName(name);
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
  private static String manifestDigest(byte[] manifestBytes) {
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

  /** Every file under {@code dir} that is not a directory (links included: never followed). */
  private static List<Path> listFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
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
