package dev.warmstart.agent.cli;

import dev.warmstart.agent.store.ImageEntry;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoredImage;
import java.util.LinkedHashMap;
import java.util.Map;

/** Images as the CLI prints them (its --json output). */
final class ImageViews {
  private ImageViews() {}

  static Map<String, Object> summary(StoredImage image) {
    return summary(image.manifest(), image.digest());
  }

  /** A listed image; a broken one with its reason, so it can be found and deleted. */
  static Map<String, Object> summary(ImageEntry e) {
    if (!e.broken()) {
      Map<String, Object> s = summary(e.manifest(), null);
      s.put("status", "ok");
      return s;
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("name", e.name());
    s.put("status", "broken");
    s.put("problem", e.problem());
    s.put("sizeBytes", e.diskBytes());
    return s;
  }

  private static Map<String, Object> summary(Manifest m, String digest) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("name", m.name());
    s.put("sizeBytes", m.sizeBytes());
    if (digest != null) {
      s.put("digest", digest);
    }
    s.put("createdAt", m.createdAt());
    s.put("criuVersion", m.criuVersion());
    s.put("processes", m.source().processes());
    s.put("timings", m.timings());
    return s;
  }

  static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / 1048576.0);
  }
}
