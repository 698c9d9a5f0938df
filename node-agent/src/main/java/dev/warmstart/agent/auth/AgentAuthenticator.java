package dev.warmstart.agent.auth;

import dev.warmstart.agent.AgentConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Decides whether a bearer token may call the agent: only the operator's ServiceAccount, with a
 * token issued for the agent's audience. Like kube-apiserver's webhook token authenticator, it
 * remembers answers by a hash of the token (accepted for {@code cacheSeconds}, refused for {@code
 * negativeCacheSeconds}), asks once for concurrent calls with the same token, and bounds the
 * reviews in flight; a review gets one short try, so an unreachable API server costs each caller at
 * most about {@code reviewTimeoutMillis} and the API server one request, never a retry storm.
 */
@ApplicationScoped
public class AgentAuthenticator {
  /** The outcome: allowed, or refused with the HTTP status and why. */
  public record Decision(int status, String reason, String message) {
    static final Decision ALLOWED = new Decision(200, null, null);

    public boolean allowed() {
      return status == 200;
    }

    /** A definite answer about the token (not "could not ask"): worth remembering. */
    boolean definite() {
      return status != 503;
    }
  }

  private record Remembered(Decision decision, Instant until) {}

  /** Entries kept per cache before the expired ones are swept (tokens are few; floods are not). */
  static final int MAX_CACHED = 4096;

  private final TokenReviewer reviewer;
  private final AgentConfig.Auth config;
  private final Clock clock;
  private final Map<String, Remembered> cache = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Decision>> inFlight = new ConcurrentHashMap<>();
  private final Semaphore reviews;

  @Inject
  public AgentAuthenticator(TokenReviewer reviewer, AgentConfig config, Clock clock) {
    this(reviewer, config.auth(), clock);
  }

  AgentAuthenticator(TokenReviewer reviewer, AgentConfig.Auth config, Clock clock) {
    this.reviewer = reviewer;
    this.config = config;
    this.clock = clock;
    this.reviews = new Semaphore(config.maxConcurrentReviews());
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
    Remembered known = cache.get(key);
    if (known != null && known.until().isAfter(clock.instant())) {
      return known.decision();
    }
    CompletableFuture<Decision> mine = new CompletableFuture<>();
    CompletableFuture<Decision> running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      return await(running); // the same token is being reviewed: share that answer
    }
    try {
      Decision d = reviewBounded(token);
      if (d.definite()) {
        remember(key, d);
      }
      mine.complete(d);
      return d;
    } catch (RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  private Decision await(CompletableFuture<Decision> running) {
    try {
      return running.get(config.reviewTimeoutMillis() * 2L, TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return unavailable("the token's review did not finish");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unavailable("interrupted");
    }
  }

  private Decision reviewBounded(String token) {
    try {
      if (!reviews.tryAcquire(config.reviewTimeoutMillis(), TimeUnit.MILLISECONDS)) {
        return unavailable(config.maxConcurrentReviews() + " token reviews already in flight");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unavailable("interrupted");
    }
    try {
      return judge(reviewer.review(token, config.audience()));
    } catch (RuntimeException e) {
      return unavailable(e.getMessage());
    } finally {
      reviews.release();
    }
  }

  private Decision judge(TokenReviewer.Review review) {
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
    return Decision.ALLOWED;
  }

  private void remember(String key, Decision d) {
    Instant now = clock.instant();
    if (cache.size() >= MAX_CACHED) {
      cache.values().removeIf(r -> !r.until().isAfter(now));
      if (cache.size() >= MAX_CACHED) {
        cache.clear(); // a flood of distinct tokens: forget rather than grow
      }
    }
    int ttl = d.allowed() ? config.cacheSeconds() : config.negativeCacheSeconds();
    cache.put(key, new Remembered(d, now.plusSeconds(ttl)));
  }

  private static Decision unavailable(String why) {
    return new Decision(503, "TokenReviewUnavailable", "cannot verify the token: " + why);
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
