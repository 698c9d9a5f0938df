package dev.warmstart.agent;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Which agent build answers, for operators and humans debugging a node. */
@Path("/v1/version")
public class AgentVersion {
  private final String name;

  public AgentVersion(@ConfigProperty(name = "quarkus.application.name") String name) {
    this.name = name;
  }

  /** The agent's name and API version. */
  public record Info(String name, String apiVersion) {}

  @GET
  @Produces(MediaType.APPLICATION_JSON)
  public Info version() {
    return new Info(name, "v1");
  }
}
