package dev.warmstart.operator.status;

import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.WarmstartStatus;
import io.fabric8.kubernetes.client.CustomResource;
import java.time.Clock;

/**
 * One status factory for every Warmstart kind: owns the condition rules and the rules all kinds
 * share (the error status); each kind's subclass adds its own events and its own fields through its
 * {@link StatusBuilder}. Reconcilers never build a status or a condition by hand.
 *
 * @param <R> the custom resource
 * @param <S> its status
 * @param <B> its status builder
 */
public abstract class StatusFactory<
    R extends CustomResource<?, S>, S extends WarmstartStatus, B extends StatusBuilder<S, B>> {
  protected final Clock clock;

  protected StatusFactory(Clock clock) {
    this.clock = clock;
  }

  /** The next status of {@code cr}, starting as a copy of its current one. */
  protected abstract B from(R cr);

  /** The condition an unexpected operator error is reported on (Unknown while retried). */
  protected abstract ConditionType errorCondition();

  /**
   * The operator failed unexpectedly on this resource; its phase is kept, the reconcile retried.
   */
  public S reconcileError(R cr, String message) {
    return from(cr)
        .condition(
            errorCondition(), ConditionStatus.Unknown, ConditionReason.ReconcileError, message)
        .build(message);
  }
}
