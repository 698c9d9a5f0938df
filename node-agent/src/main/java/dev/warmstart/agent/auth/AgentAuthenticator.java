package dev.warmstart.agent.auth;

import dev.warmstart.agent.AgentConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides whether a bearer token may call the agent: only the operator's ServiceAccount, with a
 * token issued for the agent's audience. Accepted tokens are remembered briefly (by hash) so that
 * polling does not cost a TokenReview per call.
 */
@ApplicationScoped
public class AgentAuthenticator {
  /** The outcome: allowed, or refused with the HTTP status and why. */
  public record Decision(int status, String reason, String message) {
    static final Decision ALLOWED = new Decision(200, null, null);

    public boolean allowed() {
      return status == 200;
    }
  }

  private final TokenReviewer reviewer;
  private final AgentConfig.Auth config;
  private final Clock clock;
  private final Map<String, Instant> accepted = new ConcurrentHashMap<>();

  public AgentAuthenticator(TokenReviewer reviewer, AgentConfig config, Clock clock) {
    this.reviewer = reviewer;
    this.config = config.auth();
    this.clock = clock;
  }

  public Decision decide(String authorizationHeader) {
    if (authorizationHeader == null || !authorizationHeader.startsWith("Bearer ")) {
      return new Decision(401, "Unauthenticated", "a bearer token is required");
    }
    String token = authorizationHeader.substring("Bearer ".length()).trim();
    if (token.isEmpty()) {
      return new Decision(401, "Unauthenticated", "the bearer token is empty");
    }
    String key = sha256(token);
    Instant until = accepted.get(key);
    if (until != null && until.isAfter(clock.instant())) {
      return Decision.ALLOWED;
    }
    TokenReviewer.Review review;
    try {
      review = reviewer.review(token, config.audience());
    } catch (RuntimeException e) {
      return new Decision(
          503, "TokenReviewUnavailable", "cannot verify the token: " + e.getMessage());
    }
    if (!review.authenticated()) {
      return new Decision(
          401,
          "Unauthenticated",
          "token rejected by the API server"
              + (review.error() == null ? "" : ": " + review.error()));
    }
    // Fail closed: a review without audiences (a token for the API server itself) is not ours.
    if (!review.audiences().contains(config.audience())) {
      return new Decision(
          401, "WrongAudience", "token is not issued for audience " + config.audience());
    }
    if (!config.allowedUser().equals(review.username())) {
      return new Decision(403, "Forbidden", review.username() + " may not call the node agent");
    }
    accepted.put(key, clock.instant().plusSeconds(config.cacheSeconds()));
    return Decision.ALLOWED;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
