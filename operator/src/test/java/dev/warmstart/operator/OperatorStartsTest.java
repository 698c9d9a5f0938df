package dev.warmstart.operator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import org.junit.jupiter.api.Test;

/** The operator starts against an API server (Fabric8's mock server in CRUD mode). */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class OperatorStartsTest {
  @Test
  void startsAndReportsLive() {
    given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
  }
}
