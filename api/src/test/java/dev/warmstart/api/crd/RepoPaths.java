package dev.warmstart.api.crd;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository root from a test, whether run by Maven or an IDE. */
public final class RepoPaths {
  private RepoPaths() {}

  public static Path root() {
    String configured = System.getProperty("warmstart.repo.root");
    Path start = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
    for (Path p = start.toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("crds")) && Files.exists(p.resolve("api/pom.xml"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "repository root (with crds/ and api/) not found from " + start);
  }

  public static Path crds() {
    return root().resolve("crds");
  }
}
