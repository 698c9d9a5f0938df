package dev.warmstart.agent.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The local Unix socket serves the CLI without a token; only its owner (root) can connect. */
@QuarkusTest
@WithKubernetesTestServer
class AgentSocketTest {
  static final Path SOCKET = Path.of("target/agent-test/agent.sock");

  @Test
  void socketAnswersWithoutATokenWhileTcpDoesNot() throws Exception {
    given().get("/v1/operations/none").then().statusCode(401);
    Process curl =
        new ProcessBuilder(
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--unix-socket",
                SOCKET.toString(),
                "http://localhost/v1/operations/none")
            .redirectErrorStream(true)
            .start();
    String code = new String(curl.getInputStream().readAllBytes()).trim();
    curl.waitFor(30, TimeUnit.SECONDS);
    assertThat(code).as("authorized by the socket, then not found").isEqualTo("404");
  }

  @Test
  void socketIsNotWritableByOthers() throws Exception {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(SOCKET);
    assertThat(perms)
        .doesNotContain(PosixFilePermission.OTHERS_WRITE, PosixFilePermission.GROUP_WRITE);
  }
}
