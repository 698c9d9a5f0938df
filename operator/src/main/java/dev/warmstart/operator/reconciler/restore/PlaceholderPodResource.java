package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.GpuRestore;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.GarbageCollected;
import io.javaoperatorsdk.operator.processing.dependent.Creator;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependentResourceConfigBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * A GpuRestore's placeholder pod as a JOSDK dependent resource: its informer (pods labelled {@link
 * PlaceholderPods#RESTORE_LABEL}, mapped to their owning GpuRestore through the owner reference) is
 * the one the restore's reads use; JOSDK creates it and keeps its own write visible to the next
 * read; garbage collection deletes it with its GpuRestore (a pool member's too: the pool owns the
 * member, the member its pod).
 *
 * <p>Create-only: a {@link Creator} and no Updater, so JOSDK never matches, updates or replaces a
 * placeholder; once CRIU has restored a process into it, changing its spec would kill what runs
 * there. Deleting it on failure goes through {@link #delete}, which only deletes what this informer
 * holds: never a user's pod that has the same name. The controlling owner reference (controller,
 * blockOwnerDeletion) is set by {@link PlaceholderPods#build}; the one JOSDK adds (Fabric8's {@code
 * addOwnerReference}, neither flag set) is then a no-op, as Fabric8 keeps one reference per UID.
 *
 * <p>Standalone (called by the restore's executor when {@link RestoreDecider} says {@code
 * CreatePlaceholder} or fails the restore), not declared in a managed {@code @Workflow}. What a
 * managed workflow in JOSDK 5.2.1 does with it (read from WorkflowReconcileExecutor):
 *
 * <ul>
 *   <li>it runs before {@code reconcile()}, so whether and which placeholder a restore wants (its
 *       checkpoint Succeeded, its artifact, node and claim, spec.nodeName matching, not pooled, not
 *       failed) would be decided a second time in a reconcile precondition and in {@code
 *       desired()};
 *   <li>a precondition that holds makes JOSDK create a missing pod, so it would also have to read
 *       the cache to say "keep, but never create again" (a restored pod the user deleted must not
 *       come back as an empty placeholder holding its GPUs);
 *   <li>a precondition that fails deletes it (GarbageCollected is a Deleter), but only on the
 *       reconcile after the one that failed the restore, which then has to ask for another;
 *   <li>an activation condition, which neither creates nor deletes, deregisters the event source,
 *       here the pod informer every restore shares;
 *   <li>a user's pod of the same name makes the create fail with 409 before {@code reconcile()};
 *       the refusal (PlaceholderFailed) then needs {@code handleExceptionsInReconciler}.
 * </ul>
 *
 * Called standalone it keeps JOSDK's part (informer, create, its own write cached, the
 * owner-reference mapping, garbage collection, delete of only its own pod) and leaves the decision
 * in one place.
 */
public final class PlaceholderPodResource extends KubernetesDependentResource<Pod, GpuRestore>
    implements Creator<Pod, GpuRestore>, GarbageCollected<GpuRestore> {
  /** The key under which the reconcile hands the desired pod to {@link #desired}. */
  static final String DESIRED = PlaceholderPodResource.class.getName() + ".desired";

  public PlaceholderPodResource() {
    super(Pod.class, "placeholders");
    configureWith(
        new KubernetesDependentResourceConfigBuilder<Pod>()
            .withKubernetesDependentInformerConfig(
                InformerConfiguration.builder(Pod.class)
                    .withLabelSelector(PlaceholderPods.RESTORE_LABEL)
                    .build())
            .build());
  }

  /** The pod the restore's decision built ({@link PlaceholderPods}), handed over in the context. */
  @Override
  protected Pod desired(GpuRestore cr, Context<GpuRestore> context) {
    return context.managedWorkflowAndDependentResourceContext().getMandatory(DESIRED, Pod.class);
  }

  /** Its name comes from the restore alone, so finding it never needs the checkpoint. */
  @Override
  protected ResourceID targetSecondaryResourceID(GpuRestore cr, Context<GpuRestore> context) {
    return new ResourceID(PlaceholderPods.podName(cr), cr.getMetadata().getNamespace());
  }
}
