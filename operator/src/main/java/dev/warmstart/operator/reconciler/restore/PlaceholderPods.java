package dev.warmstart.operator.reconciler.restore;

import dev.warmstart.api.v1alpha1.CheckpointArtifact;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.operator.reconciler.OwnerReferences;
import dev.warmstart.operator.reconciler.RunningContainers;
import dev.warmstart.operator.reconciler.checkpoint.StoragePods;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds the placeholder pod a checkpoint is restored into: the source pod's spec (image, GPU and
 * other resources, volumes, env), the captured container's command replaced by a static
 * wait-forever binary that an init container copies in from the agent image, so any image works.
 * Owned by the GpuRestore; probes off (nothing listens until the restore); never restarted.
 */
public final class PlaceholderPods {
  public static final String RESTORE_LABEL = "warmstart.dev/restore";
  static final String PAUSE = "/warmstart/pause";
  private static final String BIN_VOLUME = "warmstart-bin";
  private static final String STORE_VOLUME = "warmstart-store";

  private final String placeholderImage;

  public PlaceholderPods(String placeholderImage) {
    this.placeholderImage = placeholderImage;
  }

  public static String podName(GpuRestore cr) {
    return cr.getSpec().podName() != null ? cr.getSpec().podName() : cr.getMetadata().getName();
  }

  /**
   * @param node the node to pin it to (node-local images), or null
   * @param claim the claim the image is kept on: mounted (read-only) into the restored container at
   *     {@link StoragePods#MOUNT_PATH}, where the agent reads the image from before restoring; the
   *     restored process does not see it (CRIU gives it the source container's mounts)
   */
  public Pod build(
      GpuRestore cr,
      CheckpointArtifact artifact,
      String node,
      Optional<PersistentVolumeClaimStorage> claim) {
    PodSpec source = artifact.sourcePodTemplate().getSpec();
    List<Container> containers = new ArrayList<>();
    for (Container c : source.getContainers()) {
      if (!c.getName().equals(artifact.containerName())) {
        containers.add(c);
        continue;
      }
      ContainerBuilder placeholder =
          new ContainerBuilder(c)
              .withCommand(PAUSE)
              .withArgs()
              .withLivenessProbe(null)
              .withReadinessProbe(null)
              .withStartupProbe(null)
              .addToVolumeMounts(
                  new VolumeMountBuilder()
                      .withName(BIN_VOLUME)
                      .withMountPath("/warmstart")
                      .build());
      if (claim.isPresent()) {
        placeholder.addToVolumeMounts(
            new VolumeMountBuilder()
                .withName(STORE_VOLUME)
                .withMountPath(StoragePods.MOUNT_PATH)
                .withReadOnly(true)
                .build());
      }
      containers.add(placeholder.build());
    }
    Container copier =
        new ContainerBuilder()
            .withName("warmstart-placeholder")
            .withImage(placeholderImage)
            .withCommand("cp", "/opt/warmstart/bin/pause", PAUSE)
            .withVolumeMounts(
                new VolumeMountBuilder().withName(BIN_VOLUME).withMountPath("/warmstart").build())
            .build();
    PodSpecBuilder spec =
        new PodSpecBuilder(source)
            .withContainers(containers)
            .addToInitContainers(copier)
            .addToVolumes(
                new VolumeBuilder().withName(BIN_VOLUME).withNewEmptyDir().endEmptyDir().build())
            .withRestartPolicy("Never");
    claim.ifPresent(
        c ->
            spec.addToVolumes(
                new VolumeBuilder()
                    .withName(STORE_VOLUME)
                    .withNewPersistentVolumeClaim()
                    .withClaimName(c.claimName())
                    .withReadOnly(true)
                    .endPersistentVolumeClaim()
                    .build()));
    if (node != null) {
      spec.withNodeName(node);
    } else if (cr.getSpec().nodeName() != null) {
      spec.withNodeName(cr.getSpec().nodeName());
    }
    if (cr.getSpec().nodeSelector() != null) {
      Map<String, String> sel =
          new HashMap<>(source.getNodeSelector() == null ? Map.of() : source.getNodeSelector());
      sel.putAll(cr.getSpec().nodeSelector());
      spec.withNodeSelector(sel);
    }
    Map<String, String> labels =
        new HashMap<>(
            artifact.sourcePodTemplate().getMetadata() == null
                    || artifact.sourcePodTemplate().getMetadata().getLabels() == null
                ? Map.of()
                : artifact.sourcePodTemplate().getMetadata().getLabels());
    labels.put(RESTORE_LABEL, cr.getMetadata().getName());
    return new PodBuilder()
        .withNewMetadata()
        .withName(podName(cr))
        .withNamespace(cr.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(OwnerReferences.controller(cr))
        .endMetadata()
        .withSpec(spec.build())
        .build();
  }

  /** Whether the pod is this restore's placeholder (not a user's pod of the same name). */
  public static boolean ownedBy(Pod pod, GpuRestore cr) {
    return OwnerReferences.isOwnedBy(pod, cr);
  }

  /** Why the scheduler cannot place the pod, if it said so. */
  static Optional<String> unschedulable(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getConditions().stream()
        .filter(
            c ->
                "PodScheduled".equals(c.getType())
                    && "False".equals(c.getStatus())
                    && "Unschedulable".equals(c.getReason()))
        .findFirst()
        .map(
            c ->
                "placeholder pod "
                    + pod.getMetadata().getName()
                    + " cannot be scheduled: "
                    + c.getMessage());
  }

  /** The id of the named container once it runs, as the agent's runc state names it. */
  static Optional<String> runningContainerId(Pod pod, String container) {
    return RunningContainers.id(pod, c -> c.getName().equals(container));
  }
}
