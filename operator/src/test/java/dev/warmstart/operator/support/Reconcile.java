package dev.warmstart.operator.support;

import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.StatusWriter;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

/**
 * Runs a workflow the way the reconciler and JOSDK do: one step, the status written by the
 * reconciler's {@link StatusWriter} when it changed, the clock moved to the requested requeue time,
 * the resource read back.
 */
public final class Reconcile<R extends CustomResource<?, S>, S> {
  private final KubernetesClient client;
  private final Class<R> type;
  private final Function<R, Decision<S>> step;
  private final MutableClock clock;

  public Reconcile(
      KubernetesClient client, Class<R> type, Function<R, Decision<S>> step, MutableClock clock) {
    this.client = client;
    this.type = type;
    this.step = step;
    this.clock = clock;
  }

  public R get(String name) {
    return client.resources(type).inNamespace(Cluster.NS).withName(name).get();
  }

  /** One reconcile; returns the resource as stored afterwards. */
  public R once(String name) {
    R cr = get(name);
    Decision<S> d = step.apply(cr);
    if (!Objects.equals(d.status(), cr.getStatus())) {
      cr.setStatus(d.status());
      new StatusWriter(client).write(cr);
    }
    clock.advance(d.requeueAfter().orElse(Duration.ZERO));
    return get(name);
  }

  /** Reconciles until the workflow asks for no requeue (at most {@code max} times). */
  public R untilSettled(String name, int max) {
    R cr = get(name);
    for (int i = 0; i < max; i++) {
      Decision<S> d = step.apply(cr);
      if (!Objects.equals(d.status(), cr.getStatus())) {
        cr.setStatus(d.status());
        client.resource(cr).updateStatus();
      }
      cr = get(name);
      if (d.requeueAfter().isEmpty()) {
        return cr;
      }
      clock.advance(d.requeueAfter().get());
    }
    return cr;
  }
}
