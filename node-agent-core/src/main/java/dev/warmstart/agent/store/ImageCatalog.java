package dev.warmstart.agent.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What the store holds, read without verifying: manifests, broken images, disk use. */
final class ImageCatalog {
  private final Path root;
  private final ObjectMapper json;

  ImageCatalog(Path root, ObjectMapper json) {
    this.root = root;
    this.json = json;
  }

  Manifest manifest(String name) throws ImageNotFoundException, IOException {
    Path manifestFile = root.resolve(name).resolve(Manifest.FILE_NAME);
    if (!Files.isRegularFile(manifestFile)) {
      throw new ImageNotFoundException(name);
    }
    return json.readValue(manifestFile.toFile(), Manifest.class);
  }

  /** Manifests of the readable images, by name. */
  List<Manifest> list() throws IOException {
    return entries().stream().filter(e -> !e.broken()).map(ImageEntry::manifest).toList();
  }

  /** Every image directory by name, broken ones (no readable manifest) with the reason. */
  List<ImageEntry> entries() throws IOException {
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
  StoreUsage usage() throws IOException {
    List<ImageEntry> images = entries();
    long inProgress = 0;
    for (String dir : List.of(ImageStore.STAGING, ImageStore.WORK, ImageStore.TRASH)) {
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
}
