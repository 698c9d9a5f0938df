package dev.warmstart.agent.auth;

import dev.warmstart.agent.AgentConfig;
import dev.warmstart.agent.api.ApiError;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Every call to the agent's API is authenticated: over TCP with the operator's ServiceAccount
 * token; over the local Unix socket (root-only, for the CLI) by file permissions. It runs after
 * matching, on the worker thread of the (blocking) resource, because a TokenReview blocks.
 */
public class BearerTokenFilter {
  private final AgentAuthenticator authenticator;
  private final boolean enabled;

  public BearerTokenFilter(AgentAuthenticator authenticator, AgentConfig config) {
    this.authenticator = authenticator;
    this.enabled = config.auth().enabled();
  }

  @ServerRequestFilter
  public Optional<Response> authenticate(ContainerRequestContext ctx, HttpServerRequest request) {
    if (!enabled || !ctx.getUriInfo().getPath().startsWith("/v1/")) {
      return Optional.empty();
    }
    if (request.localAddress() != null && request.localAddress().isDomainSocket()) {
      return Optional.empty();
    }
    AgentAuthenticator.Decision d =
        authenticator.decide(ctx.getHeaderString(HttpHeaders.AUTHORIZATION));
    if (d.allowed()) {
      return Optional.empty();
    }
    return Optional.of(
        Response.status(d.status())
            .type(MediaType.APPLICATION_JSON)
            .entity(new ApiError(d.reason(), d.message()))
            .build());
  }
}
