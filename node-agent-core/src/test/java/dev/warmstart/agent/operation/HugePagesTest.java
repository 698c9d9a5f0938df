package dev.warmstart.agent.operation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** THP policy handling against a stand-in for the sysfs file (the real one is the node's). */
class HugePagesTest {
  @TempDir Path dir;

  private Path sysfs() throws Exception {
    return Files.writeString(dir.resolve("enabled"), "always [madvise] never\n");
  }

  /** The policy in effect: a write of "x" to the stand-in leaves "x", the kernel shows "[x]". */
  private static String shown(Path sysfs) throws Exception {
    return HugePages.selected(Files.readString(sysfs));
  }

  @Test
  void appliedWhileOperationsRunAndPutBackAfterTheLast() throws Exception {
    Path sysfs = sysfs();
    HugePages thp = new HugePages(Optional.of("always"), sysfs, dir.resolve("thp-original"));
    AutoCloseable a = thp.during();
    assertThat(shown(sysfs)).isEqualTo("always");
    assertThat(Files.readString(dir.resolve("thp-original"))).isEqualTo("madvise");
    AutoCloseable b = thp.during();
    a.close();
    assertThat(shown(sysfs)).as("still one operation running").isEqualTo("always");
    b.close();
    assertThat(shown(sysfs)).isEqualTo("madvise");
    assertThat(dir.resolve("thp-original")).doesNotExist();
  }

  @Test
  void aFailedOperationStillPutsItBack() throws Exception {
    Path sysfs = sysfs();
    HugePages thp = new HugePages(Optional.of("always"), sysfs, dir.resolve("thp-original"));
    assertThatThrownBy(
            () -> {
              try (AutoCloseable ignored = thp.during()) {
                throw new IllegalStateException("forced failure mid-restore");
              }
            })
        .hasMessageContaining("forced failure");
    assertThat(shown(sysfs)).isEqualTo("madvise");
  }

  @Test
  void aCrashedAgentsChangeIsUndoneAtTheNextStart() throws Exception {
    Path sysfs = sysfs();
    new HugePages(Optional.of("always"), sysfs, dir.resolve("thp-original"))
        .during(); // never closed
    assertThat(shown(sysfs)).isEqualTo("always");
    new HugePages(Optional.of("always"), sysfs, dir.resolve("thp-original")).recover();
    assertThat(shown(sysfs)).isEqualTo("madvise");
  }

  @Test
  void noPolicyTouchesNothingAndBadOnesAreRefused() throws Exception {
    Path sysfs = sysfs();
    try (AutoCloseable ignored =
        new HugePages(Optional.empty(), sysfs, dir.resolve("m")).during()) {
      assertThat(Files.readString(sysfs)).isEqualTo("always [madvise] never\n");
    }
    assertThatThrownBy(() -> new HugePages(Optional.of("sometimes"), sysfs, dir.resolve("m")))
        .hasMessageContaining("always, madvise or never");
  }
}
