package dev.warmstart.agent.auth;

import java.util.List;

/** Asks the cluster who a bearer token belongs to. */
public interface TokenReviewer {

  /** The API server's answer; {@code authenticated} false for unknown or expired tokens. */
  record Review(boolean authenticated, String username, List<String> audiences, String error) {}

  Review review(String token, String audience);
}
