package dev.warmstart.operator.reconciler;

import dev.warmstart.operator.event.EventReason;
import dev.warmstart.operator.event.EventRecorder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.function.BiFunction;
import org.jboss.logging.Logger;

/**
 * The error-status path of every reconciler ({@code updateErrorStatus}): an exception the workflow
 * did not expect (an API server error, a bug) becomes a ReconcileError condition and a Warning
 * event on the resource, and JOSDK retries the reconcile with its bounded exponential retry (5
 * attempts by default); after the last one the resource waits for its next change. JOSDK logs the
 * exception itself.
 */
@ApplicationScoped
public class ReconcileErrors {
  private static final Logger LOG = Logger.getLogger(ReconcileErrors.class);

  private final EventRecorder events;
  private final StatusWriter statusWriter;

  public ReconcileErrors(EventRecorder events, KubernetesClient client) {
    this.events = events;
    this.statusWriter = new StatusWriter(client);
  }

  /**
   * @param errorStatus the resource's status factory rule for the error: (resource, message) to
   *     status
   */
  public <R extends CustomResource<?, S>, S> ErrorStatusUpdateControl<R> handle(
      R resource, Context<R> context, Exception e, BiFunction<R, String, S> errorStatus) {
    int attempt = context.getRetryInfo().map(RetryInfo::getAttemptCount).orElse(1);
    boolean last = context.getRetryInfo().map(RetryInfo::isLastAttempt).orElse(false);
    String message =
        "operator error: "
            + e.getClass().getSimpleName()
            + ": "
            + e.getMessage()
            + (last
                ? " (gave up after " + attempt + " attempts; a change to the resource retries)"
                : " (attempt " + attempt + "; retried)");
    events.warning(resource, EventReason.ReconcileError, message);
    resource.setStatus(errorStatus.apply(resource, message));
    try {
      statusWriter.write(resource); // a conflict: the next attempt reads afresh
    } catch (KubernetesClientException writeFailed) {
      LOG.debugf(
          "error status of %s not written: %s", resource.getMetadata().getName(), writeFailed);
    }
    return ErrorStatusUpdateControl.noStatusUpdate();
  }
}
