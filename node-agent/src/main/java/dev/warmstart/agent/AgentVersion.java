package dev.warmstart.agent;

import dev.warmstart.api.agent.AgentProtocol;
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

  /**
   * The agent's name, its API's path version and the agent protocol version it speaks ({@link
   * AgentProtocol}).
   */
  public record Info(String name, String apiVersion, int protocolVersion) {}

  @GET
  @Produces(MediaType.APPLICATION_JSON)
  public Info version() {
    return new Info(name, AgentProtocol.PATH_PREFIX.substring(1), AgentProtocol.VERSION);
  }
}
