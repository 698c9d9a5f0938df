package dev.warmstart.operator.reconciler.checkpoint;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.PersistentVolumeClaimStorage;
import dev.warmstart.operator.reconciler.OwnerReferences;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;
import java.util.Optional;

/**
 * The pod that mounts a checkpoint's PersistentVolumeClaim on the checkpoint's node while the agent
 * copies the image onto it: the kubelet mounts the claim (any volume plugin, RWO or RWX), and the
 * agent reaches the mount through this pod's container. It runs only the agent image's static
 * pause, holds no GPU, and is deleted once the copy is done (so an RWO claim is free again).
 */
public final class StoragePods {
  /** Where the storage pod (and a restore's placeholder) mounts the claim. */
  public static final String MOUNT_PATH = "/warmstart-store";

  /** The image store's directory in the claim when the spec names none. */
  public static final String DEFAULT_SUB_PATH = "warmstart";

  public static final String LABEL = "warmstart.dev/checkpoint-store";
  private static final String VOLUME = "warmstart-store";

  private final String image;

  public StoragePods(String image) {
    this.image = image;
  }

  public static String podName(GpuCheckpoint cr) {
    String name = cr.getMetadata().getName();
    return (name.length() > 240 ? name.substring(0, 240) : name) + "-store";
  }

  /** The claim, if the checkpoint is kept on one. */
  public static Optional<PersistentVolumeClaimStorage> claim(GpuCheckpoint cr) {
    return Optional.ofNullable(cr.getSpec().storage()).map(s -> s.persistentVolumeClaim());
  }

  public static String subPath(PersistentVolumeClaimStorage claim) {
    return claim.subPath() != null ? claim.subPath() : DEFAULT_SUB_PATH;
  }

  public Pod build(GpuCheckpoint cr, PersistentVolumeClaimStorage claim, String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(podName(cr))
        .withNamespace(cr.getMetadata().getNamespace())
        .withLabels(Map.of(LABEL, cr.getMetadata().getName()))
        .withOwnerReferences(OwnerReferences.controller(cr))
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .withRestartPolicy("Never")
        .addNewContainer()
        .withName("store")
        .withImage(image)
        .withCommand("/opt/warmstart/bin/pause")
        .withNewResources()
        .addToRequests(Map.of("cpu", new Quantity("10m"), "memory", new Quantity("16Mi")))
        .endResources()
        .addNewVolumeMount()
        .withName(VOLUME)
        .withMountPath(MOUNT_PATH)
        .endVolumeMount()
        .endContainer()
        .addNewVolume()
        .withName(VOLUME)
        .withNewPersistentVolumeClaim()
        .withClaimName(claim.claimName())
        .endPersistentVolumeClaim()
        .endVolume()
        .endSpec()
        .build();
  }
}
