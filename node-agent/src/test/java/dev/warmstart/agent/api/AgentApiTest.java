package dev.warmstart.agent.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.api.agent.AgentProtocol;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.utils.ResponseProvider;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.http.ContentType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's HTTP API. No kube-apiserver can run here, so Fabric8's mock server answers
 * TokenReviews the way the API server would for each test token.
 */
@QuarkusTest
@WithKubernetesTestServer
class AgentApiTest {
  static final String OPERATOR = "system:serviceaccount:warmstart-system:warmstart-operator";
  static final ObjectMapper JSON = new ObjectMapper();

  @KubernetesTestServer KubernetesServer server;

  /** TokenReviews the mock API server answered, by token. */
  static final Map<String, AtomicInteger> REVIEWS = new ConcurrentHashMap<>();

  @BeforeEach
  void tokenReviews() {
    server
        .expect()
        .post()
        .withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(
            new ResponseProvider<Object>() {
              private final Map<RecordedRequest, String> tokens =
                  Collections.synchronizedMap(new WeakHashMap<>());
              private Headers headers = Headers.builder().build();

              private String token(RecordedRequest req) {
                return tokens.computeIfAbsent(
                    req,
                    r -> {
                      try {
                        String t = JSON.readTree(r.getBody().readUtf8()).at("/spec/token").asText();
                        REVIEWS.computeIfAbsent(t, k -> new AtomicInteger()).incrementAndGet();
                        return t;
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    });
              }

              @Override
              public int getStatusCode(RecordedRequest req) {
                // An API server that fails (etcd down, overloaded): 503 for these tokens.
                return token(req).startsWith("api-down") ? 503 : 201;
              }

              @Override
              public Object getBody(RecordedRequest req) {
                return switch (token(req)) {
                  case "operator-token" -> review(true, OPERATOR, "warmstart-agent");
                  case "other-token" ->
                      review(true, "system:serviceaccount:default:intruder", "warmstart-agent");
                  case "wrong-audience" -> review(true, OPERATOR, "kubernetes");
                  case "no-audience" -> review(true, OPERATOR, null);
                  default -> review(false, null, null);
                };
              }

              @Override
              public Headers getHeaders() {
                return headers;
              }

              @Override
              public void setHeaders(Headers h) {
                headers = h;
              }
            })
        .always();
  }

  @Test
  void aFailingApiServerCostsOneShortReviewPerCallNotARetryStorm() {
    String token = "api-down-" + UUID.randomUUID();
    long t0 = System.nanoTime();
    given()
        .auth()
        .oauth2(token)
        .get("/v1/operations")
        .then()
        .statusCode(503)
        .body("reason", equalTo("TokenReviewUnavailable"));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(REVIEWS.get(token).get()).as("TokenReviews for one call").isEqualTo(1);
    assertThat(ms).as("worker held for").isLessThan(5000);
    // Not a definite answer, so not remembered: the next call asks again (once).
    given().auth().oauth2(token).get("/v1/operations").then().statusCode(503);
    assertThat(REVIEWS.get(token).get()).isEqualTo(2);
  }

  @Test
  void aRefusedTokenIsRememberedBriefly() {
    String token = "forged-" + UUID.randomUUID();
    for (int i = 0; i < 5; i++) {
      given().auth().oauth2(token).get("/v1/operations").then().statusCode(401);
    }
    assertThat(REVIEWS.get(token).get()).as("TokenReviews for five calls").isEqualTo(1);
  }

  private static Object review(boolean ok, String user, String audience) {
    var b = new TokenReviewBuilder().withNewStatus().withAuthenticated(ok);
    if (ok) {
      b = b.withNewUser().withUsername(user).endUser();
      if (audience != null) {
        b = b.withAudiences(audience);
      }
    } else {
      b = b.withError("token not valid");
    }
    return b.endStatus().build();
  }

  @Test
  void aTokenReviewedWithoutAudiencesIsRefused() {
    // A plain API server token reviews with no audiences: the agent must not take it as its own.
    given()
        .auth()
        .oauth2("no-audience")
        .get("/v1/operations")
        .then()
        .statusCode(401)
        .body("reason", equalTo("WrongAudience"));
  }

  @Test
  void callsWithoutATokenAreRefused() {
    given().get("/v1/operations").then().statusCode(401).body("reason", equalTo("Unauthenticated"));
  }

  @Test
  void unknownTokensAreRefused() {
    given()
        .auth()
        .oauth2("forged")
        .get("/v1/operations")
        .then()
        .statusCode(401)
        .body("message", containsString("token not valid"));
  }

  @Test
  void otherServiceAccountsAreForbidden() {
    given()
        .auth()
        .oauth2("other-token")
        .get("/v1/operations")
        .then()
        .statusCode(403)
        .body("reason", equalTo("Forbidden"), "message", containsString("intruder"));
  }

  @Test
  void tokensForAnotherAudienceAreRefused() {
    given()
        .auth()
        .oauth2("wrong-audience")
        .get("/v1/operations")
        .then()
        .statusCode(401)
        .body("reason", equalTo("WrongAudience"));
  }

  @Test
  void theOperatorSeesTheAgentsVersion() {
    given()
        .auth()
        .oauth2("operator-token")
        .get("/v1/version")
        .then()
        .statusCode(200)
        .body("name", equalTo("warmstart-node-agent"), "apiVersion", equalTo("v1"))
        .body("protocolVersion", equalTo(AgentProtocol.VERSION))
        .header(AgentProtocol.HEADER, "1");
  }

  @Test
  void aRequestInAnotherProtocolVersionIsRefusedBeforeItsBodyIsRead() {
    given()
        .auth()
        .oauth2("operator-token")
        .header(AgentProtocol.HEADER, "2")
        .contentType(ContentType.JSON)
        .body("{\"idempotencyKey\":\"v2\",\"kind\":\"RESTORE\",\"restore\":{\"what\":1}}")
        .post("/v1/operations")
        .then()
        .statusCode(400)
        .header(AgentProtocol.HEADER, "1")
        .body(
            "reason",
            equalTo("ProtocolVersionMismatch"),
            "message",
            containsString("speaks agent protocol version 1; the request is in version '2'"));
    given()
        .auth()
        .oauth2("operator-token")
        .header(AgentProtocol.HEADER, "1")
        .get("/v1/operations")
        .then()
        .statusCode(200);
  }

  @Test
  void aFieldOfAnotherProtocolVersionIsRefusedNotDropped() {
    // A restore as an agent before RestoreStage spelled a Warm standby: run to the end, it would
    // hold GPU memory its GpuRestore says it does not.
    io.restassured.response.Response r =
        submitRaw(
            "{\"idempotencyKey\":\"old\",\"kind\":\"RESTORE\",\"restore\":"
                + "{\"imageName\":\"x\",\"timeoutSeconds\":60,\"prepareOnly\":true}}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.jsonPath().getString("reason")).isEqualTo("InvalidRequest");
    assertThat(r.jsonPath().getString("message")).contains("prepareOnly");
  }

  @Test
  void healthNeedsNoToken() {
    given().get("/q/health/live").then().statusCode(200);
  }

  @Test
  void theOperatorGetsClearErrorsForBadRequests() {
    given()
        .auth()
        .oauth2("operator-token")
        .get("/v1/operations/nope")
        .then()
        .statusCode(404)
        .body("reason", equalTo("NotFound"));
    given()
        .auth()
        .oauth2("operator-token")
        .contentType(ContentType.JSON)
        .body("{\"idempotencyKey\":\"k\"}")
        .post("/v1/operations")
        .then()
        .statusCode(400)
        .body("reason", equalTo("InvalidRequest"), "message", containsString("kind"));
    given()
        .auth()
        .oauth2("operator-token")
        .contentType(ContentType.JSON)
        .body(
            Map.of(
                "idempotencyKey",
                "k2",
                "kind",
                "CHECKPOINT",
                "checkpoint",
                Map.of("target", Map.of("pid", 1), "imageName", "../etc", "timeoutSeconds", 60)))
        .post("/v1/operations")
        .then()
        .statusCode(400)
        .body("message", containsString("image name '../etc' is not valid"));
  }

  /** POSTs a raw body as the operator; returns the answer's status and body. */
  private static io.restassured.response.Response submitRaw(String body) {
    return given()
        .auth()
        .oauth2("operator-token")
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v1/operations");
  }

  private static Map<String, Object> checkpoint(String key, Map<String, Object> extra) {
    Map<String, Object> c = new java.util.HashMap<>();
    c.put("target", Map.of("pid", 1));
    c.put("imageName", "api-invalid");
    c.put("timeoutSeconds", 60);
    c.putAll(extra);
    return Map.of("idempotencyKey", key, "kind", "CHECKPOINT", "checkpoint", c);
  }

  private static void refused(Object body, String messagePart) {
    given()
        .auth()
        .oauth2("operator-token")
        .contentType(ContentType.JSON)
        .body(body)
        .post("/v1/operations")
        .then()
        .statusCode(400)
        .contentType(ContentType.JSON)
        .body("reason", equalTo("InvalidRequest"), "message", containsString(messagePart));
  }

  @Test
  void unreadableJsonIsA400SayingWhatIsWrong() {
    submitRaw("{\"idempotencyKey\": ")
        .then()
        .statusCode(400)
        .contentType(ContentType.JSON)
        .body("reason", equalTo("InvalidRequest"))
        .body("message", containsString("not a valid operation"));
    submitRaw("{\"idempotencyKey\":\"k\",\"kind\":\"EXPLODE\"}")
        .then()
        .statusCode(400)
        .body("message", containsString("EXPLODE"));
    submitRaw("{\"idempotencyKey\":\"k\",\"checkpoint\":{\"timeoutSeconds\":\"soon\"}}")
        .then()
        .statusCode(400)
        .body("message", containsString("timeoutSeconds"));
  }

  @Test
  void deeplyNestedJsonIsA400NotA500() {
    // Unknown fields are skipped, but their nesting still counts.
    String deep = "[".repeat(5000) + "]".repeat(5000);
    submitRaw("{\"idempotencyKey\":\"deep\",\"kind\":\"CHECKPOINT\",\"extra\":" + deep + "}")
        .then()
        .statusCode(400)
        .body("reason", equalTo("InvalidRequest"))
        .body("message", containsString("nesting depth"));
    String deepLabels = "{\"labels\":".repeat(5000) + "{}" + "}".repeat(5000);
    submitRaw(
            "{\"idempotencyKey\":\"d2\",\"kind\":\"CHECKPOINT\",\"checkpoint\":" + deepLabels + "}")
        .then()
        .statusCode(400)
        .body("reason", equalTo("InvalidRequest"));
  }

  @Test
  void aHugeBodyIsRefusedBeforeItIsRead() throws Exception {
    String big = "{\"idempotencyKey\":\"" + "x".repeat(2 * 1024 * 1024) + "\"}";
    // Expect: 100-continue, so the refusal comes on the announced length before any body is sent;
    // a client that sends at once races the agent, which answers and closes while it still writes.
    java.net.http.HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            io.restassured.RestAssured.baseURI
                                + ":"
                                + io.restassured.RestAssured.port
                                + "/v1/operations"))
                    .version(java.net.http.HttpClient.Version.HTTP_1_1)
                    .expectContinue(true)
                    .header("Authorization", "Bearer operator-token")
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(big))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(413);
  }

  @Test
  void everyFieldIsCheckedAtSubmit() {
    Map<String, Object> crlf =
        Map.of("path", "/sleep HTTP/1.1\r\nHost: x\r\n\r\nPOST /admin", "port", 8000);
    refused(checkpoint("v1", Map.of("preCheckpointHook", crlf)), "preCheckpointHook.path");
    refused(
        checkpoint("v2", Map.of("preCheckpointHook", Map.of("path", "/x", "port", 70000))),
        "preCheckpointHook.port must be 1 to 65535");
    refused(
        checkpoint(
            "v3",
            Map.of("preCheckpointHook", Map.of("path", "/x", "port", 80, "timeoutSeconds", 0))),
        "timeoutSeconds must be 1 to 3600");
    Map<String, String> many = new java.util.HashMap<>();
    for (int i = 0; i < 100; i++) {
      many.put("k" + i, "v");
    }
    refused(checkpoint("v4", Map.of("labels", many)), "checkpoint.labels has 100 entries");
    refused(
        checkpoint("v5", Map.of("labels", Map.of("pod", "x".repeat(5000)))),
        "checkpoint.labels[pod] is 5000 characters long");
    refused(checkpoint("v6", Map.of("labels", Map.of("bad key\n", "v"))), "checkpoint.labels key");
    refused(
        checkpoint("v7", Map.of("target", Map.of("containerId", "containerd://../../etc/passwd"))),
        "checkpoint.target.containerId");
    refused(checkpoint("v8", Map.of("target", Map.of("pid", -5))), "checkpoint.target.pid");
    refused(
        Map.of(
            "idempotencyKey",
            "v9",
            "kind",
            "RESTORE",
            "restore",
            Map.of(
                "imageName",
                "img",
                "timeoutSeconds",
                60,
                "targetGpuUuids",
                List.of("GPU-../../dev/nvidiactl"))),
        "restore.targetGpuUuids entry 'GPU-../../dev/nvidiactl' is not a GPU UUID");
    refused(
        Map.of(
            "idempotencyKey",
            "v10",
            "kind",
            "RESTORE",
            "restore",
            Map.of("imageName", "img", "timeoutSeconds", 60, "intoContainerId", "a b")),
        "restore.intoContainerId 'a b' is not valid");
    refused(
        Map.of("idempotencyKey", "v11\r\nX: y", "kind", "DELETE_IMAGE", "deleteImageName", "img"),
        "idempotencyKey");
    refused(
        Map.of(
            "idempotencyKey",
            "v12",
            "kind",
            "ACTIVATE",
            "activate",
            Map.of("restoreOperationId", "../x", "timeoutSeconds", 60)),
        "activate.restoreOperationId");
  }

  @Test
  void imagesListBrokenOnesWithTheReasonAndTheStoreReportsItsUsage() throws Exception {
    Path broken = Path.of("target/agent-test/images/api-broken");
    Files.createDirectories(broken);
    Files.writeString(broken.resolve("manifest.json"), "not json");
    List<Map<String, Object>> images =
        given()
            .auth()
            .oauth2("operator-token")
            .get("/v1/images")
            .then()
            .statusCode(200)
            .extract()
            .path("findAll { it.name == 'api-broken' }");
    assertThat(images).hasSize(1);
    assertThat((String) images.get(0).get("problem")).startsWith("manifest.json is not valid");
    JsonNode usage =
        JSON.readTree(
            given()
                .auth()
                .oauth2("operator-token")
                .get("/v1/store")
                .then()
                .statusCode(200)
                .extract()
                .asString());
    assertThat(usage.get("brokenImages").asInt()).isPositive();
    assertThat(usage.get("images").asInt())
        .isGreaterThanOrEqualTo(usage.get("brokenImages").asInt());
    assertThat(usage.get("usableBytes").asLong()).isPositive();
    given().get("/v1/store").then().statusCode(401);
  }

  @Test
  void checkpointOverHttpRunsOncePerIdempotencyKey() throws Exception {
    Path criu = Path.of("../.local/criu/bin/criu");
    assumeTrue(
        Files.isExecutable(criu) && "root".equals(System.getProperty("user.name")),
        "needs root and CRIU");
    Process workload = new ProcessBuilder("setsid", "sleep", "600").start();
    String key = "ckpt-" + java.util.UUID.randomUUID();
    // The store under target/ outlives a run; an image name is not silently replaced.
    String image = "api-sleep-" + key.substring(key.length() - 12);
    try {
      Map<String, Object> body =
          Map.of(
              "idempotencyKey",
              key,
              "kind",
              "CHECKPOINT",
              "checkpoint",
              Map.of(
                  "target",
                  Map.of("pid", workload.pid()),
                  "imageName",
                  image,
                  "leaveRunning",
                  true,
                  "timeoutSeconds",
                  60));
      String first =
          given()
              .auth()
              .oauth2("operator-token")
              .contentType(ContentType.JSON)
              .body(body)
              .post("/v1/operations")
              .then()
              .statusCode(202)
              .extract()
              .path("id");
      String second =
          given()
              .auth()
              .oauth2("operator-token")
              .contentType(ContentType.JSON)
              .body(body)
              .post("/v1/operations")
              .then()
              .statusCode(202)
              .extract()
              .path("id");
      assertThat(second).as("same key, same operation").isEqualTo(first);

      JsonNode status = null;
      for (int i = 0; i < 300; i++) {
        status =
            JSON.readTree(
                given().auth().oauth2("operator-token").get("/v1/operations/" + first).asString());
        if (status.path("state").asText().matches("SUCCEEDED|FAILED")) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(status.path("state").asText()).as("status %s", status).isEqualTo("SUCCEEDED");
      assertThat(status.at("/image/manifestDigest").asText()).startsWith("sha256:");
      assertThat(status.at("/timings/dump").asLong()).isPositive();

      List<?> ops =
          given()
              .auth()
              .oauth2("operator-token")
              .get("/v1/operations")
              .then()
              .statusCode(200)
              .extract()
              .path("findAll { it.idempotencyKey == '" + key + "' }");
      assertThat(ops).as("one operation for the key").hasSize(1);

      Map<String, Object> changed =
          Map.of("idempotencyKey", key, "kind", "DELETE_IMAGE", "deleteImageName", image);
      given()
          .auth()
          .oauth2("operator-token")
          .contentType(ContentType.JSON)
          .body(changed)
          .post("/v1/operations")
          .then()
          .statusCode(409)
          .body("reason", equalTo("IdempotencyConflict"));
      assertThat(workload.isAlive()).isTrue();
    } finally {
      workload.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anOmittedLeaveRunningKeepsTheWorkloadRunningAndItsSecretsStayOnTheNode() throws Exception {
    Path criu = Path.of("../.local/criu/bin/criu");
    assumeTrue(
        Files.isExecutable(criu) && "root".equals(System.getProperty("user.name")),
        "needs root and CRIU");
    // A shell that stays (the ':' keeps bash from exec'ing sleep) with secrets in its argv.
    Process workload =
        new ProcessBuilder(
                "setsid",
                "bash",
                "-c",
                "sleep 600; :",
                "serve",
                "--api-key=hunter2",
                "--password",
                "hunter3",
                "DB_TOKEN=hunter4")
            .start();
    String key = "ckpt-" + UUID.randomUUID();
    String image = "api-secret-" + key.substring(key.length() - 12);
    try {
      Thread.sleep(200); // bash has forked its sleep
      Map<String, Object> body =
          Map.of(
              "idempotencyKey",
              key,
              "kind",
              "CHECKPOINT",
              "checkpoint",
              Map.of(
                  "target",
                  Map.of("pid", workload.pid()),
                  "imageName",
                  image,
                  "timeoutSeconds",
                  60));
      String id =
          given()
              .auth()
              .oauth2("operator-token")
              .contentType(ContentType.JSON)
              .body(body)
              .post("/v1/operations")
              .then()
              .statusCode(202)
              .extract()
              .path("id");
      JsonNode status = null;
      for (int i = 0; i < 300; i++) {
        status =
            JSON.readTree(
                given().auth().oauth2("operator-token").get("/v1/operations/" + id).asString());
        if (status.path("state").asText().matches("SUCCEEDED|FAILED")) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(status.path("state").asText()).as("status %s", status).isEqualTo("SUCCEEDED");
      assertThat(workload.isAlive()).as("leaveRunning omitted: the CRD's default, true").isTrue();

      String images = given().auth().oauth2("operator-token").get("/v1/images").asString();
      String mine =
          JSON.readTree(images).findParents("name").stream()
              .filter(n -> image.equals(n.path("name").asText()))
              .findFirst()
              .orElseThrow()
              .toString();
      assertThat(mine)
          .contains("--api-key=<redacted>", "--password <redacted>", "DB_TOKEN=<redacted>")
          .doesNotContain("hunter");
      assertThat(Files.readString(Path.of("target/agent-test/images", image, "manifest.json")))
          .contains("bash -c")
          .doesNotContain("hunter");
    } finally {
      workload.descendants().forEach(ProcessHandle::destroyForcibly);
      workload.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void theOperatorSeesTheNodesImageStoreAndPrometheusItsGauges() {
    given().get("/v1/store").then().statusCode(401);
    var usage =
        given()
            .auth()
            .oauth2("operator-token")
            .get("/v1/store")
            .then()
            .statusCode(200)
            .extract()
            .as(dev.warmstart.api.agent.StoreUsage.class);
    assertThat(usage.node()).isEqualTo("test-node");
    assertThat(usage.capacityBytes()).isPositive();
    assertThat(usage.usableBytes()).isPositive().isLessThanOrEqualTo(usage.capacityBytes());
    String scrape = given().get("/q/metrics").then().statusCode(200).extract().asString();
    assertThat(scrape.lines().filter(l -> l.startsWith("warmstart_")))
        .anyMatch(l -> l.startsWith("warmstart_node_store_free_bytes{node=\"test-node\"}"))
        .anyMatch(
            l ->
                l.startsWith(
                    "warmstart_agent_operations_in_flight{kind=\"checkpoint\",node=\"test-node\"}"));
  }
}
