package dev.warmstart.api.v1alpha1;

/** Whether a condition holds, as in metav1.Condition. */
public enum ConditionStatus {
  True,
  False,
  Unknown
}
