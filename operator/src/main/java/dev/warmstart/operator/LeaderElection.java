package dev.warmstart.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.quarkus.arc.profile.UnlessBuildProfile;
import jakarta.inject.Singleton;

/**
 * Only the replica holding the lease reconciles, so more than one operator replica (Helm
 * operator.replicas) never dispatches the same work twice. The lease lives in the operator's own
 * namespace; tests (one instance, mock server) run without it.
 */
@Singleton
@UnlessBuildProfile("test")
public class LeaderElection extends LeaderElectionConfiguration {
  public LeaderElection() {
    super("warmstart-operator");
  }
}
