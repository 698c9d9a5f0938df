package dev.warmstart.agent.api;

import dev.warmstart.agent.ops.OperationService;
import dev.warmstart.agent.ops.OperationService.IdempotencyConflictException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Bad requests get a 4xx with a reason and a message, never a stack trace. */
public class ErrorMappers {
  @ServerExceptionMapper
  public Response invalid(IllegalArgumentException e) {
    return Response.status(400).entity(new ApiError("InvalidRequest", e.getMessage())).build();
  }

  @ServerExceptionMapper
  public Response busy(OperationService.BusyException e) {
    return Response.status(429)
        .header("Retry-After", "10")
        .entity(new ApiError("TooManyOperations", e.getMessage()))
        .build();
  }

  @ServerExceptionMapper
  public Response conflict(IdempotencyConflictException e) {
    return Response.status(409).entity(new ApiError("IdempotencyConflict", e.getMessage())).build();
  }
}
