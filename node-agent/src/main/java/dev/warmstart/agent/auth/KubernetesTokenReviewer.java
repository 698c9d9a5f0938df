package dev.warmstart.agent.auth;

import dev.warmstart.agent.AgentConfig;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/**
 * TokenReview through the API server (the agent's ServiceAccount may create tokenreviews), on a
 * client of its own: one try with a short timeout. The shared client retries with back-off (eleven
 * requests over ~20 s by default), which would hold a worker per unauthenticated call while the API
 * server fails.
 */
@ApplicationScoped
public class KubernetesTokenReviewer implements TokenReviewer {
  private final KubernetesClient client;

  public KubernetesTokenReviewer(KubernetesClient shared, AgentConfig config) {
    int timeout = config.auth().reviewTimeoutMillis();
    this.client =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(shared.getConfiguration())
                    .withRequestRetryBackoffLimit(0)
                    .withConnectionTimeout(timeout)
                    .withRequestTimeout(timeout)
                    .build())
            .build();
  }

  @PreDestroy
  void close() {
    client.close();
  }

  @Override
  public Review review(String token, String audience) {
    TokenReview answer =
        client
            .authentication()
            .v1()
            .tokenReviews()
            .create(
                new TokenReviewBuilder()
                    .withNewSpec()
                    .withToken(token)
                    .withAudiences(audience)
                    .endSpec()
                    .build());
    var status = answer.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      return new Review(false, null, List.of(), status == null ? "no status" : status.getError());
    }
    return new Review(
        true,
        status.getUser() == null ? null : status.getUser().getUsername(),
        status.getAudiences() == null ? List.of() : status.getAudiences(),
        null);
  }
}
