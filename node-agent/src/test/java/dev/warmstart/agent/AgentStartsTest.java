package dev.warmstart.agent;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AgentStartsTest {
  @Test
  void startsAndReportsHealthy() {
    given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
  }

  @Test
  void itsApiIsNotOpen() {
    given().get("/v1/version").then().statusCode(401);
  }
}
