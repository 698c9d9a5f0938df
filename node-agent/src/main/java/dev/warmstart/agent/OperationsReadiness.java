package dev.warmstart.agent;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.operation.OperationService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only when operations can run: the operation service started (recovery done), its journal
 * and the image store can be written, its executor runs. Quarantined journal entries are reported
 * here (and logged) without making the agent unready: the other operations are unaffected.
 */
@ApplicationScoped
@Readiness
public class OperationsReadiness implements HealthCheck {
  private final Instance<OperationService> operations;
  private final Instance<AgentComponents> components;

  public OperationsReadiness(
      Instance<OperationService> operations, Instance<AgentComponents> components) {
    this.operations = operations;
    this.components = components;
  }

  @Override
  public HealthCheckResponse call() {
    var b = HealthCheckResponse.named("operations");
    try {
      OperationService ops = operations.get();
      ops.probe();
      Path work = components.get().store().root().resolve(".work");
      Path probe = Files.createTempFile(work, "ready", ".probe");
      Files.delete(probe);
      b.up().withData("operations", ops.list().size());
      if (!ops.quarantined().isEmpty()) {
        b.withData("quarantinedJournalEntries", String.join("; ", ops.quarantined()));
      }
    } catch (Exception | LinkageError e) {
      b.down().withData("reason", String.valueOf(e.getMessage()));
    }
    return b.build();
  }
}
