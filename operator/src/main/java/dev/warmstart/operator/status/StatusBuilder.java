package dev.warmstart.operator.status;

import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.WarmstartStatus;
import java.time.Clock;
import java.util.List;

/**
 * The next status of a resource, starting as a copy of its current one: each kind's builder copies
 * its own fields, this one the conditions every kind shares and the rules they follow ({@link
 * Conditions}).
 *
 * @param <S> the status it builds
 * @param <B> the kind's builder, so that chained calls keep its type
 */
public abstract class StatusBuilder<S extends WarmstartStatus, B extends StatusBuilder<S, B>> {
  private final Long generation;
  private final Clock clock;
  private List<Condition> conditions;

  protected StatusBuilder(Long generation, S current, Clock clock) {
    this.generation = generation;
    this.clock = clock;
    this.conditions =
        current == null || current.conditions() == null ? List.of() : current.conditions();
  }

  /** Sets the condition of {@code type}; its lastTransitionTime moves only if the status does. */
  public B condition(
      ConditionType type, ConditionStatus status, ConditionReason reason, String message) {
    conditions = Conditions.with(conditions, type, status, reason, message, generation, clock);
    return self();
  }

  protected Long generation() {
    return generation;
  }

  protected List<Condition> conditions() {
    return conditions;
  }

  /** The status, with {@code message} as its message where the kind has one. */
  public abstract S build(String message);

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }
}
