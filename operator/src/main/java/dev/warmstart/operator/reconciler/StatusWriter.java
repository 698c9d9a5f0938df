package dev.warmstart.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Writes a whole status with PUT on the status subresource, guarded by the resourceVersion read.
 * Not a merge patch: Fabric8's mock server (our API server in tests) appends to lists on status
 * merge patches where a real API server replaces them, so conditions would differ between tests and
 * production. A PUT means the same in both; SSA is not available in the mock.
 */
public final class StatusWriter {
  private final KubernetesClient client;

  public StatusWriter(KubernetesClient client) {
    this.client = client;
  }

  /** False when someone else changed the resource first: reconcile again from a fresh read. */
  public boolean write(HasMetadata resource) {
    try {
      client.resource(resource).updateStatus();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return false;
      }
      throw e;
    }
  }
}
