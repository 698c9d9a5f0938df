package dev.warmstart.api.crd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import io.fabric8.crdv2.generator.CRDGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed crds/ must equal what fabric8's generator makes from the Java classes. Regenerate
 * with {@code scripts/update-crds.sh}.
 */
class CrdsUpToDateTest {

  @Test
  void committedCrdsMatchGeneration(@TempDir Path out) throws IOException {
    new CRDGenerator()
        .inOutputDir(out.toFile())
        .forCRDVersions("v1")
        .customResourceClasses(
            GpuCheckpoint.class,
            GpuRestore.class,
            GpuStandbyPool.class,
            GpuCheckpointSchedule.class)
        .generate();

    Path committed = RepoPaths.crds();
    boolean update = Boolean.getBoolean("warmstart.updateCrds");
    try (Stream<Path> generated = Files.list(out)) {
      for (Path file : generated.sorted().toList()) {
        Path target = committed.resolve(file.getFileName().toString().replace(".yml", ".yaml"));
        String fresh = Files.readString(file);
        if (update) {
          Files.writeString(target, fresh);
          // The chart ships the same files; ChartTest checks the copy.
          Files.writeString(
              RepoPaths.root().resolve("helm/warmstart/crds").resolve(target.getFileName()), fresh);
        }
        assertThat(target).as("generated CRD %s is committed", target.getFileName()).exists();
        assertThat(Files.readString(target))
            .as("%s is stale: regenerate with -Dwarmstart.updateCrds=true", target.getFileName())
            .isEqualTo(fresh);
      }
    }
    try (Stream<Path> files = Files.list(committed)) {
      assertThat(files.filter(f -> f.toString().endsWith(".yaml")).count())
          .as("crds/ holds exactly the generated CRDs")
          .isEqualTo(4);
    }
  }
}
