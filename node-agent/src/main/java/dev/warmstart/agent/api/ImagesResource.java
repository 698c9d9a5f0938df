package dev.warmstart.agent.api;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.store.ImageEntry;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.io.IOException;
import java.util.List;

/** The images stored on this node, broken ones included. */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
public class ImagesResource {
  private final AgentComponents agent;

  public ImagesResource(AgentComponents agent) {
    this.agent = agent;
  }

  @GET
  @Path("images")
  public List<ImageEntry> list() throws IOException {
    return agent.store().entries();
  }
}
