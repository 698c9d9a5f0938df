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
 * holds: never a user's pod that has the same name.
 *
 * <p>Standalone, not declared in a managed {@code @Workflow}: whether a restore wants its
 * placeholder, and which one (the checkpoint's artifact, node and claim), is a decision {@link
 * RestoreDecider} takes from the whole observation, and a managed workflow would have to take it a
 * second time in a reconcile precondition. A precondition also cannot say "keep but never create
 * again": when it holds JOSDK re-creates a missing resource (a restored pod the user deleted would
 * come back as an empty placeholder holding its GPUs), and when it does not JOSDK deletes it; an
 * activation condition, which would do neither, deregisters the informer all restores share.
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
