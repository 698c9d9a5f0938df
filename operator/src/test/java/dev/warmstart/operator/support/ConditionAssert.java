package dev.warmstart.operator.support;

import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import java.util.List;
import org.assertj.core.api.AbstractAssert;

/** assertThat(conditions).has(Ready, False, "PodNotFound"). */
public final class ConditionAssert extends AbstractAssert<ConditionAssert, List<Condition>> {
  private ConditionAssert(List<Condition> actual) {
    super(actual, ConditionAssert.class);
  }

  public static ConditionAssert assertThatConditions(List<Condition> conditions) {
    return new ConditionAssert(conditions);
  }

  public ConditionAssert has(ConditionType type, ConditionStatus status, String reason) {
    isNotNull();
    Condition c = actual.stream().filter(x -> x.type() == type).findFirst().orElse(null);
    if (c == null) {
      failWithMessage("no %s condition in %s", type, actual);
    } else if (c.status() != status || !c.reason().equals(reason)) {
      failWithMessage(
          "expected %s=%s (%s) but was %s (%s): %s",
          type, status, reason, c.status(), c.reason(), c.message());
    }
    return this;
  }
}
