package dev.warmstart.agent.proc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the agent lets out of a workload's command line. */
class CommandLinesTest {
  @TempDir Path proc;

  @Test
  void secretLookingValuesAreRedactedInEveryForm() {
    assertThat(
            CommandLines.redact(
                List.of(
                    "python3",
                    "serve.py",
                    "--api-key=sk-live-123",
                    "--token",
                    "tok-456",
                    "-password",
                    "hunter2",
                    "DB_PASSWORD=pw789",
                    "--client_secret=s3",
                    "-Djavax.net.ssl.keyStorePassword=changeit",
                    "--db=postgres://app:pgpass@db:5432/x",
                    "--port",
                    "8080",
                    "--model=llama")))
        .isEqualTo(
            "python3 serve.py --api-key=<redacted> --token <redacted> -password <redacted>"
                + " DB_PASSWORD=<redacted> --client_secret=<redacted>"
                + " -Djavax.net.ssl.keyStorePassword=<redacted>"
                + " --db=postgres://app:<redacted>@db:5432/x --port 8080 --model=llama");
  }

  @Test
  void aFlagWithoutValueDoesNotSwallowTheNextOption() {
    assertThat(CommandLines.redact(List.of("app", "--no-auth", "--verbose")))
        .isEqualTo("app --no-auth --verbose");
  }

  @Test
  void redactingTwiceChangesNothingAndOldJoinedLinesAreRedactedToo() {
    String once = CommandLines.redact("srv --api-key=abc --secret xyz");
    assertThat(once).isEqualTo("srv --api-key=<redacted> --secret <redacted>");
    assertThat(CommandLines.redact(once)).isEqualTo(once);
  }

  @Test
  void procfsHandsOutOnlyTheRedactedCommandLine() throws Exception {
    Files.createDirectories(proc.resolve("42"));
    Files.write(
        proc.resolve("42/cmdline"), "vllm\0serve\0--api-key\0sk-abc\0--port\08000\0".getBytes());
    assertThat(Procfs.at(proc).cmdline(42))
        .isEqualTo("vllm serve --api-key <redacted> --port 8000")
        .doesNotContain("sk-abc");
  }
}
