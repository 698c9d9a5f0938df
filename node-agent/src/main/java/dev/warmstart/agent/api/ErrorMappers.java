package dev.warmstart.agent.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.agent.operation.OperationService.IdempotencyConflictException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Bad requests get a 4xx with a reason and a message, never a stack trace or an empty body. */
public class ErrorMappers {
  @ServerExceptionMapper
  public Response invalid(IllegalArgumentException e) {
    return bad(e.getMessage());
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
    return Response.status(409)
        .type(MediaType.APPLICATION_JSON)
        .entity(new ApiError("IdempotencyConflict", e.getMessage()))
        .build();
  }

  // Jackson's exceptions by their exact types: RESTEasy picks the mapper closest to the thrown
  // class, and Quarkus has built-in ones for some of them that answer without a body.

  @ServerExceptionMapper
  public Response json(JsonProcessingException e) {
    return badJson(e);
  }

  @ServerExceptionMapper
  public Response parse(JsonParseException e) {
    return badJson(e);
  }

  @ServerExceptionMapper
  public Response tooDeepOrLarge(StreamConstraintsException e) {
    return badJson(e);
  }

  @ServerExceptionMapper
  public Response mismatched(MismatchedInputException e) {
    return badJson(e);
  }

  @ServerExceptionMapper
  public Response rejectedByRecord(ValueInstantiationException e) {
    return e.getCause() instanceof IllegalArgumentException iae
        ? bad(iae.getMessage())
        : badJson(e);
  }

  /** The JSON reader reports unreadable bodies as a bare 400; give it the parser's reason. */
  @ServerExceptionMapper
  public Response web(WebApplicationException e) {
    if (e.getResponse().getStatus() == 400 && !e.getResponse().hasEntity()) {
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        if (c instanceof JacksonException j) {
          return badJson(j);
        }
      }
      return bad(e.getMessage());
    }
    return e.getResponse();
  }

  private static Response badJson(JacksonException e) {
    StringBuilder m = new StringBuilder("the request body is not a valid operation: ");
    m.append(e.getOriginalMessage());
    if (e instanceof JsonMappingException d && !d.getPath().isEmpty()) {
      m.append(" (at ").append(d.getPathReference()).append(")");
    }
    JsonLocation at = e.getLocation();
    if (at != null && at.getLineNr() > 0) {
      m.append(" at line ").append(at.getLineNr()).append(", column ").append(at.getColumnNr());
    }
    return bad(m.toString());
  }

  private static Response bad(String message) {
    return Response.status(400)
        .type(MediaType.APPLICATION_JSON)
        .entity(new ApiError("InvalidRequest", message))
        .build();
  }
}
