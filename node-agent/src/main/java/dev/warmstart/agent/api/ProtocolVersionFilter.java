package dev.warmstart.agent.api;

import dev.warmstart.api.agent.AgentProtocol;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

/**
 * The agent protocol's version ({@link AgentProtocol}): a request that names another version in the
 * header is answered 400 before its body is read, so a client of another Warmstart version learns
 * why instead of having its fields misread; every answer names the agent's version. A request
 * without the header (curl, scripts) is taken as this version. Runs after authentication.
 */
public class ProtocolVersionFilter {
  private static final String SPOKEN = Integer.toString(AgentProtocol.VERSION);

  @ServerRequestFilter(priority = Priorities.USER + 10)
  public Optional<Response> check(ContainerRequestContext ctx) {
    String asked = ctx.getHeaderString(AgentProtocol.HEADER);
    if (asked == null || asked.strip().equals(SPOKEN)) {
      return Optional.empty();
    }
    return Optional.of(
        Response.status(400)
            .type(MediaType.APPLICATION_JSON)
            .header(AgentProtocol.HEADER, SPOKEN)
            .entity(
                new ApiError(
                    AgentProtocol.MISMATCH_REASON,
                    "this agent speaks agent protocol version "
                        + SPOKEN
                        + "; the request is in version "
                        + RequestLimits.quoted(asked)
                        + ": operator and agent must come from compatible Warmstart releases"))
            .build());
  }

  @ServerResponseFilter
  public void name(ContainerResponseContext response) {
    response.getHeaders().putSingle(AgentProtocol.HEADER, SPOKEN);
  }
}
