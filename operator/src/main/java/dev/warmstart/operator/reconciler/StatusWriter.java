package dev.warmstart.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Writes a whole status with PUT on the status subresource, guarded by the resourceVersion read.
 * The status is decided from the resource as read, so a decision taken from a stale read must fail
 * (409, decide again) rather than overwrite a newer status: server-side apply would win regardless
 * of what it was decided from, which is why it is not used here even on a real API server. Not a
 * merge patch either: Fabric8's mock server (the API server of the fast tests) appends to lists on
 * status merge patches where a real API server replaces them.
 */
public final class StatusWriter {
  private final KubernetesClient client;

  public StatusWriter(KubernetesClient client) {
    this.client = client;
  }

  private static final Duration CONFLICT_RETRY = Duration.ofSeconds(1);

  /**
   * Turns a workflow's decision into JOSDK's answer: the status written when it changed, and the
   * requeue it asked for (or a quick one after a write conflict, to decide again from a fresh
   * read). The written resource goes into JOSDK's cache of primaries (as {@code UpdateControl}'s
   * own status updates do), so the next reconcile decides from this write and not from an older
   * copy the informer has not replaced yet: a decision from that older copy could act twice, e.g.
   * re-create a placeholder pod its failure had just deleted.
   */
  public <R extends CustomResource<?, S>, S> UpdateControl<R> apply(
      R resource, Decision<S> d, Context<R> context) {
    UpdateControl<R> control = UpdateControl.noUpdate();
    if (!Objects.equals(d.status(), resource.getStatus())) {
      resource.setStatus(d.status());
      Optional<R> written = put(resource);
      if (written.isEmpty()) {
        return control.rescheduleAfter(CONFLICT_RETRY);
      }
      context
          .eventSourceRetriever()
          .getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(resource), written.get(), resource);
    }
    d.requeueAfter().ifPresent(control::rescheduleAfter);
    return control;
  }

  /** False when someone else changed the resource first: reconcile again from a fresh read. */
  public boolean write(HasMetadata resource) {
    return put(resource).isPresent();
  }

  /** The resource as written, or empty on a write conflict. */
  private <R extends HasMetadata> Optional<R> put(R resource) {
    try {
      return Optional.of(client.resource(resource).updateStatus());
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return Optional.empty();
      }
      throw e;
    }
  }
}
