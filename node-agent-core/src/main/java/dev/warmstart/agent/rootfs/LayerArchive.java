package dev.warmstart.agent.rootfs;

import dev.warmstart.agent.store.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * A container's writable layer as a tar in the OCI layer format (what podman's rootfs-diff.tar and
 * image layers hold): overlayfs whiteouts (character devices 0:0) become {@code .wh.<name>}
 * entries, opaque directories a {@code .wh..wh..opq} entry right after the directory. Applying it
 * goes through the target's merged root filesystem, never its upper directory (writing under a
 * mounted overlay's layers is undefined).
 */
public final class LayerArchive {
  public static final String FILE_NAME = "rootfs-diff.tar";
  static final String WHITEOUT = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";
  private static final int S_IFMT = 0170000;
  private static final int S_IFCHR = 0020000;

  private LayerArchive() {}

  /** Writes {@code upper} into {@code archive}; fails before writing when it is too large. */
  public static Manifest.WritableLayer capture(Path upper, Path archive, LayerSettings settings)
      throws IOException, LayerTooLargeException {
    List<Item> items = new ArrayList<>();
    List<String> excluded = new ArrayList<>();
    Map<Object, String> firstName = new HashMap<>(); // inode -> first path (hard links)
    long[] bytes = {0};
    Files.walkFileTree(
        upper,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            if (dir.equals(upper)) {
              return FileVisitResult.CONTINUE;
            }
            String path = containerPath(upper, dir);
            if (settings.excluded(path)) {
              excluded.add(path);
              return FileVisitResult.SKIP_SUBTREE;
            }
            items.add(new Item(dir, path, "dir", 0, null));
            if (isOpaque(dir)) {
              items.add(new Item(dir, path + "/" + OPAQUE, "opaque", 0, null));
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            String path = containerPath(upper, file);
            if (settings.excluded(path)) {
              excluded.add(path);
              return FileVisitResult.CONTINUE;
            }
            int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (attrs.isSymbolicLink()) {
              items.add(new Item(file, path, "symlink", 0, null));
            } else if (attrs.isRegularFile()) {
              int nlink = (Integer) Files.getAttribute(file, "unix:nlink");
              String first = nlink > 1 ? firstName.putIfAbsent(attrs.fileKey(), path) : null;
              if (first != null) {
                items.add(new Item(file, path, "hardlink", 0, first));
              } else {
                items.add(new Item(file, path, "file", attrs.size(), null));
                bytes[0] += attrs.size();
              }
            } else if ((mode & S_IFMT) == S_IFCHR
                && ((Long) Files.getAttribute(file, "unix:rdev", LinkOption.NOFOLLOW_LINKS)) == 0) {
              String parent = Path.of(path).getParent().toString();
              String marker =
                  (parent.equals("/") ? "" : parent) + "/" + WHITEOUT + file.getFileName();
              items.add(new Item(file, marker, "whiteout", 0, null));
            } else {
              excluded.add(path); // sockets, fifos, device nodes: nothing a restore reopens
            }
            return FileVisitResult.CONTINUE;
          }
        });
    if (bytes[0] > settings.maxBytes()) {
      throw new LayerTooLargeException(bytes[0], settings.maxBytes());
    }
    List<Manifest.LayerEntry> entries = new ArrayList<>();
    try (OutputStream out = Files.newOutputStream(archive);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      tar.setAddPaxHeadersForNonAsciiNames(true);
      for (Item item : items) {
        String name = item.path().substring(1);
        TarArchiveEntry e;
        String type = item.type();
        switch (item.type()) {
          case "dir" -> e = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
          case "symlink" -> {
            e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            e.setLinkName(Files.readSymbolicLink(item.file()).toString());
          }
          case "file" -> {
            e = new TarArchiveEntry(name);
            e.setSize(item.size());
          }
          case "hardlink" -> {
            e = new TarArchiveEntry(name, TarConstants.LF_LINK);
            e.setLinkName(item.linkTarget().substring(1));
          }
          default -> e = new TarArchiveEntry(name); // whiteout and opaque markers: empty files
        }
        if (!type.equals("whiteout") && !type.equals("opaque")) {
          int mode =
              (Integer) Files.getAttribute(item.file(), "unix:mode", LinkOption.NOFOLLOW_LINKS);
          e.setMode(mode);
          e.setUserId(
              (Integer) Files.getAttribute(item.file(), "unix:uid", LinkOption.NOFOLLOW_LINKS));
          e.setGroupId(
              (Integer) Files.getAttribute(item.file(), "unix:gid", LinkOption.NOFOLLOW_LINKS));
          e.setLastModifiedTime(Files.getLastModifiedTime(item.file(), LinkOption.NOFOLLOW_LINKS));
        }
        tar.putArchiveEntry(e);
        if (type.equals("file")) {
          long copied = Files.copy(item.file(), tar);
          if (copied != item.size()) {
            throw new IOException(
                item.path() + " changed size while the tree was frozen: " + copied + " bytes");
          }
        }
        tar.closeArchiveEntry();
        entries.add(
            new Manifest.LayerEntry(item.path(), type, type.equals("file") ? item.size() : 0));
      }
      tar.finish();
    }
    return new Manifest.WritableLayer(
        archive.getFileName().toString(), upper.toString(), bytes[0], entries, excluded, null);
  }

  /** A layer that was not captured, and why. */
  public static Manifest.WritableLayer skipped(String why) {
    return new Manifest.WritableLayer(null, null, 0, List.of(), List.of(), why);
  }

  /**
   * Lays {@code archive} onto the root filesystem at {@code root} (a placeholder's, through its
   * merged view): files, directories and links replace what is there, whiteouts delete, opaque
   * markers empty their directory first. A path whose parent inside {@code root} is a symlink is
   * refused: it could lead the agent (root on the node) outside the container.
   */
  public static void apply(Path archive, Path root) throws IOException {
    Map<Path, FileTime> dirTimes = new LinkedHashMap<>();
    try (InputStream in = Files.newInputStream(archive);
        TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        Path target = inside(root, e.getName());
        String base = target.getFileName().toString();
        if (base.equals(OPAQUE)) {
          Path dir = target.getParent();
          if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (var children = Files.list(dir)) {
              for (Path c : children.toList()) {
                deleteTree(c);
              }
            }
          }
          continue;
        }
        if (base.startsWith(WHITEOUT)) {
          deleteTree(target.resolveSibling(base.substring(WHITEOUT.length())));
          continue;
        }
        if (e.isDirectory()) {
          if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            deleteTree(target);
            Files.createDirectory(target);
          }
          dirTimes.put(target, e.getLastModifiedTime());
        } else {
          deleteTree(target);
          if (e.isSymbolicLink()) {
            Files.createSymbolicLink(target, Path.of(e.getLinkName()));
          } else if (e.isLink()) {
            Files.createLink(target, inside(root, e.getLinkName()));
            continue; // shares the first name's inode and attributes
          } else {
            Files.copy(tar, target);
          }
        }
        setAttributes(target, e);
      }
    }
    // Last, and deepest first: creating children changed the directories' times.
    List<Path> dirs = new ArrayList<>(dirTimes.keySet());
    for (int i = dirs.size() - 1; i >= 0; i--) {
      Files.setLastModifiedTime(dirs.get(i), dirTimes.get(dirs.get(i)));
    }
  }

  private static void setAttributes(Path target, TarArchiveEntry e) throws IOException {
    Files.setAttribute(target, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(target, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
    if (!e.isSymbolicLink()) {
      // chmod also sets setuid/setgid/sticky, which PosixFilePermission cannot express.
      Files.setAttribute(target, "unix:mode", e.getMode() & 07777);
      Files.setLastModifiedTime(target, e.getLastModifiedTime());
    }
  }

  /** {@code name} under {@code root}, refusing escapes and symlinked parents. */
  static Path inside(Path root, String name) throws IOException {
    Path rel = Path.of(name.replaceFirst("^/+", "")).normalize();
    if (rel.toString().isEmpty() || rel.startsWith("..") || rel.isAbsolute()) {
      throw new IOException("layer entry '" + name + "' points outside the root filesystem");
    }
    Path p = root;
    for (int i = 0; i < rel.getNameCount() - 1; i++) {
      p = p.resolve(rel.getName(i));
      if (Files.isSymbolicLink(p)) {
        throw new IOException(
            "layer entry '" + name + "': /" + root.relativize(p) + " is a symlink in the target");
      }
    }
    return root.resolve(rel);
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (var children = Files.list(p)) {
        for (Path c : children.toList()) {
          deleteTree(c);
        }
      }
    }
    Files.delete(p);
  }

  private static boolean isOpaque(Path dir) {
    return Xattrs.get(dir, "trusted.overlay.opaque").filter("y"::equals).isPresent()
        || Xattrs.get(dir, "user.overlay.opaque").filter("y"::equals).isPresent();
  }

  private static String containerPath(Path upper, Path p) {
    return "/" + upper.relativize(p);
  }

  private record Item(Path file, String path, String type, long size, String linkTarget) {}
}
