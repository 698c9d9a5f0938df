package dev.warmstart.agent.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.restassured.http.ContentType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

  @BeforeEach
  void tokenReviews() {
    server
        .expect()
        .post()
        .withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReply(
            201,
            req -> {
              try {
                String token = JSON.readTree(req.getBody().readUtf8()).at("/spec/token").asText();
                return switch (token) {
                  case "operator-token" -> review(true, OPERATOR, "warmstart-agent");
                  case "other-token" ->
                      review(true, "system:serviceaccount:default:intruder", "warmstart-agent");
                  case "wrong-audience" -> review(true, OPERATOR, "kubernetes");
                  case "no-audience" -> review(true, OPERATOR, null);
                  default -> review(false, null, null);
                };
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            })
        .always();
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
        .body("name", equalTo("warmstart-node-agent"), "apiVersion", equalTo("v1"));
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
