package dev.warmstart.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;

/** The owner references the operator sets: one place, so every owned object is owned alike. */
public final class OwnerReferences {
  private OwnerReferences() {}

  /**
   * A controlling owner whose deletion the owned object blocks until it is gone (foreground
   * deletion), and which garbage collection follows.
   */
  public static OwnerReference controller(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /** Whether {@code owned} names {@code owner} (by UID) among its owners. */
  public static boolean isOwnedBy(HasMetadata owned, HasMetadata owner) {
    return owned.getMetadata().getOwnerReferences() != null
        && owned.getMetadata().getOwnerReferences().stream()
            .anyMatch(o -> owner.getMetadata().getUid().equals(o.getUid()));
  }
}
