package dev.warmstart.agent.api;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.metrics.StoreUsageProbe;
import dev.warmstart.api.agent.StoreUsage;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;

/**
 * The image store's usage: the filesystem's figures, for the operator to check a schedule's next
 * image fits, and the store's own counts (images, broken ones, work in progress).
 */
@Path("/v1/store")
@Produces(MediaType.APPLICATION_JSON)
public class StoreResource {
  private final StoreUsageProbe disk;
  private final AgentComponents agent;

  public StoreResource(StoreUsageProbe disk, AgentComponents agent) {
    this.disk = disk;
    this.agent = agent;
  }

  @GET
  public StoreUsage usage() throws IOException {
    StoreUsage fs = disk.read();
    var store = agent.store().usage();
    return new StoreUsage(
        fs.node(),
        fs.capacityBytes(),
        fs.usableBytes(),
        fs.imagesBytes(),
        store.images(),
        store.brokenImages(),
        store.inProgressBytes());
  }
}
