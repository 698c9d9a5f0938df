package dev.warmstart.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.agent.operation.OperationService;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

/** A node that takes no more operations answers 429 with a reason and a message (G8). */
class BusyMapperTest {
  @Test
  void aFullNodeAnswers429WithAMessage() {
    Response r = new ErrorMappers().busy(new OperationService.BusyException("64 operations"));
    assertThat(r.getStatus()).isEqualTo(429);
    assertThat(r.getHeaderString("Retry-After")).isEqualTo("10");
    ApiError body = (ApiError) r.getEntity();
    assertThat(body.reason()).isEqualTo("TooManyOperations");
    assertThat(body.message()).isEqualTo("64 operations");
  }
}
