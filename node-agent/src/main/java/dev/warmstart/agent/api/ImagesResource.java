package dev.warmstart.agent.api;

import dev.warmstart.agent.ops.AgentComponents;
import dev.warmstart.agent.store.Manifest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.util.List;

/** The images stored on this node. */
@Path("/v1/images")
@Produces(MediaType.APPLICATION_JSON)
public class ImagesResource {
  private final AgentComponents agent;

  public ImagesResource(AgentComponents agent) {
    this.agent = agent;
  }

  @GET
  public List<Manifest> list() throws IOException {
    return agent.store().list();
  }
}
