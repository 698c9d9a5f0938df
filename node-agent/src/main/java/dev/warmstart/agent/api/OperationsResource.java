package dev.warmstart.agent.api;

import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.OperationStatus;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/** Submit and poll operations. Submitting the same idempotency key again returns the first. */
@Path("/v1/operations")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class OperationsResource {
  private final OperationService operations;

  public OperationsResource(OperationService operations) {
    this.operations = operations;
  }

  @POST
  public Response submit(OperationRequest request) {
    RequestLimits.check(request);
    OperationStatus status = operations.submit(request);
    return Response.accepted(status).build();
  }

  @GET
  @Path("/{id}")
  public Response get(@PathParam("id") String id) {
    return operations
        .get(id)
        .map(s -> Response.ok(s).build())
        .orElseGet(
            () ->
                Response.status(404)
                    .entity(new ApiError("NotFound", "no operation " + id))
                    .build());
  }

  @GET
  public List<OperationStatus> list() {
    return operations.list();
  }
}
