package dev.warmstart.agent.auth;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** TokenReview through the API server (the agent's ServiceAccount may create tokenreviews). */
@ApplicationScoped
public class KubernetesTokenReviewer implements TokenReviewer {
  private final KubernetesClient client;

  public KubernetesTokenReviewer(KubernetesClient client) {
    this.client = client;
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
