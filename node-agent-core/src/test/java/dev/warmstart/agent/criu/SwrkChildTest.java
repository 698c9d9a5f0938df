package dev.warmstart.agent.criu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.criu.SwrkChild.InheritedFd;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How {@code criu swrk} is started, with a shell standing in for CRIU: the child gets the socket's
 * other end as its last argument, the inherited files at their numbers, and nothing else.
 */
class SwrkChildTest {
  @TempDir Path dir;

  @Test
  void theChildGetsTheSocketAndTheInheritedFilesAndNothingElse() throws Exception {
    Path in = Files.writeString(dir.resolve("in"), "from the agent");
    Path out = dir.resolve("out");
    Path fds = dir.resolve("fds");
    // A descriptor of the agent that is not close-on-exec must not reach the child.
    int leaky = SwrkLibC.INSTANCE.open(in.toString(), SwrkLibC.O_RDONLY, 0);
    try (SwrkChild child =
        SwrkChild.start(
            List.of(
                "/bin/sh",
                "-c",
                "cat <&5 >&3; printf ready >&\"$1\"; dd bs=64 count=1 <&\"$1\" >/dev/null 2>&1;"
                    + " exec ls /proc/self/fd > "
                    + fds,
                "sh"),
            Map.of("PATH", "/usr/bin:/bin"),
            List.of(
                new InheritedFd(0, Path.of("/dev/null"), false),
                new InheritedFd(1, dir.resolve("console"), true),
                new InheritedFd(2, dir.resolve("console"), true),
                new InheritedFd(3, out, true),
                new InheritedFd(5, in, false)))) {
      Optional<byte[]> msg = child.receive(Duration.ofSeconds(10));
      assertThat(msg).isPresent();
      assertThat(new String(msg.get(), StandardCharsets.UTF_8)).isEqualTo("ready");
      child.send("go\n".getBytes(StandardCharsets.UTF_8));
      assertThat(child.waitFor(Duration.ofSeconds(10))).isTrue();
      assertThat(child.exitNote()).isEqualTo("exit 0");
      assertThatThrownBy(() -> child.receive(Duration.ofSeconds(1)))
          .isInstanceOf(EOFException.class);
    } finally {
      SwrkLibC.INSTANCE.close(leaky);
    }
    assertThat(Files.readString(out)).isEqualTo("from the agent");
    // What the child holds: stdio, the inherited 3 and 5, the socket at 6, and ls's own directory
    // in the lowest free slot, 4; not `leaky`.
    assertThat(leaky).isGreaterThan(6);
    assertThat(Arrays.stream(Files.readString(fds).strip().split("\\s+")).map(Integer::parseInt))
        .containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6);
  }

  @Test
  void aChildThatCannotStartIsAnError() {
    assertThatThrownBy(
            () -> SwrkChild.start(List.of("/nonexistent/criu", "swrk"), Map.of(), List.of()))
        .hasMessageContaining("cannot start /nonexistent/criu");
  }
}
