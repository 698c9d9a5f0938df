package dev.warmstart.api.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.crd.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The formats that must last longest, the agent protocol and the image manifest the agent writes,
 * depend on nothing of the CRD's version: this package names neither {@code
 * dev.warmstart.api.v1alpha1} nor Fabric8's model, and no node-agent module names the former (the
 * agent's Fabric8 client is for token reviews only). The operator maps between the two in one place
 * (ProtocolMapping).
 */
class ProtocolIndependenceTest {
  private static final Pattern CRD_TYPES =
      Pattern.compile("\\b(dev\\.warmstart\\.api\\.v1alpha1|io\\.fabric8)[\\w.]*");
  private static final Pattern CRD_VERSION =
      Pattern.compile("\\bdev\\.warmstart\\.api\\.v1alpha1[\\w.]*");

  @Test
  void theProtocolPackageNamesNoCrdType() throws IOException {
    Path protocol = Path.of("src/main/java/dev/warmstart/api/agent");
    List<String> found = new ArrayList<>();
    int files = scan(protocol, CRD_TYPES, found);
    assertThat(files).as("protocol sources scanned").isGreaterThan(15);
    assertThat(found).isEmpty();
  }

  @Test
  void noNodeAgentModuleNamesACrdType() throws IOException {
    List<String> found = new ArrayList<>();
    int files = 0;
    try (Stream<Path> modules = Files.list(RepoPaths.root())) {
      for (Path m :
          modules.filter(p -> p.getFileName().toString().startsWith("node-agent")).toList()) {
        Path sources = m.resolve("src/main/java");
        if (Files.isDirectory(sources)) {
          files += scan(sources, CRD_VERSION, found);
        }
      }
    }
    assertThat(files).as("node-agent sources scanned").isGreaterThan(100);
    assertThat(found).isEmpty();
  }

  @Test
  void theScanFindsACrdImport() {
    Matcher m = CRD_TYPES.matcher("import dev.warmstart.api.v1alpha1.GpuInfo;");
    assertThat(m.find()).isTrue();
    assertThat(m.group()).isEqualTo("dev.warmstart.api.v1alpha1.GpuInfo");
  }

  private static int scan(Path dir, Pattern forbidden, List<String> found) throws IOException {
    int files = 0;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
        files++;
        Matcher m = forbidden.matcher(Files.readString(f));
        while (m.find()) {
          found.add(dir.relativize(f) + ": " + m.group());
        }
      }
    }
    return files;
  }
}
