package dev.warmstart.agent.rootfs;

import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.api.agent.ErrorReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The regular files a tree holds open or mapped that its checkpoint does not carry, stamped (size,
 * modification time) while CRIU holds the tree frozen, and checked against the restore target
 * before anything runs. CRIU itself reopens such files by path and only checks their size (and, for
 * executable ELF mappings, the build-id); a file that changed to the same size would restore
 * silently wrong, and a changed size fails deep inside CRIU with a log line.
 */
public final class FileStamps {
  private static final int O_ACCMODE = 03;
  private static final int O_WRONLY = 01;
  private static final int O_APPEND = 02000;

  private FileStamps() {}

  /**
   * Stamps the files of {@code pids}. For a container tree ({@code mounts} from its mountinfo),
   * only files on the given volume mount points and files of the root filesystem not in {@code
   * captured} (the writable layer archive) are stamped; files on the container's other mounts
   * (tmpfs, /dev) are in CRIU's images. For a host tree ({@code mounts} null), every file is.
   */
  public static List<Manifest.FileStamp> record(
      List<Integer> pids, List<String> mountPoints, Set<String> volumes, Set<String> captured)
      throws IOException {
    Map<String, Manifest.FileStamp> out = new LinkedHashMap<>();
    for (int pid : pids) {
      Path proc = Path.of("/proc", Integer.toString(pid));
      for (Path link : list(proc.resolve("fd"))) {
        stamp(
            link,
            flags(proc.resolve("fdinfo").resolve(link.getFileName())),
            mountPoints,
            volumes,
            captured,
            out);
      }
      for (Path link : list(proc.resolve("map_files"))) {
        stamp(link, 0, mountPoints, volumes, captured, out);
      }
    }
    return List.copyOf(out.values());
  }

  private static void stamp(
      Path link,
      int flags,
      List<String> mountPoints,
      Set<String> volumes,
      Set<String> captured,
      Map<String, Manifest.FileStamp> out)
      throws IOException {
    String path;
    BasicFileAttributes attrs;
    int nlink;
    try {
      path = Files.readSymbolicLink(link).toString();
      attrs = Files.readAttributes(link, BasicFileAttributes.class);
      nlink = (Integer) Files.getAttribute(link, "unix:nlink");
    } catch (NoSuchFileException e) {
      return; // closed meanwhile (not one of the frozen tree's own)
    }
    if (!path.startsWith("/") || !attrs.isRegularFile() || nlink == 0) {
      return; // pipes, sockets, devices; deleted files are CRIU's ghost files, in the image
    }
    String mountPoint = null;
    if (mountPoints != null) {
      mountPoint =
          mountPoints.stream()
              .filter(m -> m.equals("/") || path.equals(m) || path.startsWith(m + "/"))
              .max(Comparator.comparingInt(String::length))
              .orElse("/");
      boolean rootFile = mountPoint.equals("/") && !captured.contains(path);
      if (!volumes.contains(mountPoint) && !rootFile) {
        return;
      }
    }
    boolean append = (flags & O_ACCMODE) == O_WRONLY && (flags & O_APPEND) != 0;
    Manifest.FileStamp previous = out.get(path);
    boolean appendOnly = append && (previous == null || previous.appendOnly());
    out.put(
        path,
        new Manifest.FileStamp(
            path, mountPoint, attrs.size(), attrs.lastModifiedTime().toString(), appendOnly));
  }

  /**
   * Fails with {@link ErrorReason#FileChanged} when a stamped file is missing or was changed at the
   * target ({@code hostPath} maps a stamp to where the restored tree will find it; empty: not
   * checked here). Size and modification time must match; for files of the container's image, the
   * size (as CRIU checks). A grown append-only log passes: CRIU does not check it, and the restored
   * process appends after what was written since.
   */
  public static void check(
      List<Manifest.FileStamp> stamps, Function<Manifest.FileStamp, Optional<Path>> hostPath)
      throws OperationFailure {
    if (stamps == null) {
      return;
    }
    for (Manifest.FileStamp s : stamps) {
      Optional<Path> host = hostPath.apply(s);
      if (host.isEmpty()) {
        continue;
      }
      String where =
          s.mountPoint() == null || s.mountPoint().equals("/")
              ? s.path()
              : s.path() + " (on the volume at " + s.mountPoint() + ")";
      BasicFileAttributes now;
      try {
        now = Files.readAttributes(host.get(), BasicFileAttributes.class);
      } catch (IOException e) {
        throw changed(where + " is missing at the restore target (" + host.get() + ")", s);
      }
      if (s.appendOnly()) {
        continue;
      }
      if (now.size() != s.size()) {
        throw changed(
            where + " is " + now.size() + " bytes, " + s.size() + " when checkpointed", s);
      }
      // A file of the image itself (not in the writable layer) may carry another mtime where the
      // placeholder's copy of the image was unpacked differently; its content is the image's.
      boolean imageFile = "/".equals(s.mountPoint());
      if (!imageFile && !now.lastModifiedTime().toString().equals(s.modified())) {
        throw changed(
            where
                + " was modified at "
                + now.lastModifiedTime()
                + ", after the checkpoint ("
                + s.modified()
                + ")",
            s);
      }
    }
  }

  private static OperationFailure changed(String what, Manifest.FileStamp s) {
    return new OperationFailure(
        ErrorReason.FileChanged,
        "file "
            + what
            + ": the process had it open when checkpointed and CRIU reopens it as it was then."
            + " Restore from a checkpoint taken after the change (or with leaveRunning: false),"
            + " or keep files the process changes in its container's root filesystem (carried"
            + " in the checkpoint) or open logs write-only with O_APPEND");
  }

  private static int flags(Path fdinfo) {
    try {
      for (String line : Files.readAllLines(fdinfo)) {
        if (line.startsWith("flags:")) {
          return Integer.parseInt(line.substring(6).trim(), 8);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // closed meanwhile
    }
    return 0;
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  /** Mount points of the process's mount namespace (mountinfo's fifth field, unescaped). */
  public static List<String> mountPoints(int pid) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4) {
        out.add(f[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\"));
      }
    }
    return out;
  }
}
