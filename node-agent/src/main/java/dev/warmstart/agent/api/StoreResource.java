package dev.warmstart.agent.api;

import dev.warmstart.agent.metrics.StoreUsageProbe;
import dev.warmstart.api.agent.StoreUsage;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** The image store's usage, for the operator to check a schedule's next image fits. */
@Path("/v1/store")
@Produces(MediaType.APPLICATION_JSON)
public class StoreResource {
  private final StoreUsageProbe store;

  public StoreResource(StoreUsageProbe store) {
    this.store = store;
  }

  @GET
  public StoreUsage usage() {
    return store.read();
  }
}
