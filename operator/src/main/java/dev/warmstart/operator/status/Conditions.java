package dev.warmstart.operator.status;

import dev.warmstart.api.v1alpha1.Condition;
import dev.warmstart.api.v1alpha1.ConditionStatus;
import dev.warmstart.api.v1alpha1.ConditionType;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The condition rules every status shares: one entry per type, ordered by type, and
 * lastTransitionTime moves only when the status does.
 */
final class Conditions {
  private Conditions() {}

  static List<Condition> with(
      List<Condition> current,
      ConditionType type,
      ConditionStatus status,
      ConditionReason reason,
      String message,
      Long generation,
      Clock clock) {
    List<Condition> out = new ArrayList<>();
    String since = clock.instant().toString();
    for (Condition c : current == null ? List.<Condition>of() : current) {
      if (c.type() == type) {
        if (c.status() == status) {
          since = c.lastTransitionTime();
        }
      } else {
        out.add(c);
      }
    }
    out.add(new Condition(type, status, reason.name(), message, generation, since));
    out.sort(Comparator.comparing(Condition::type));
    return List.copyOf(out);
  }
}
