package dev.warmstart.operator.reconciler.checkpoint;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Optional;

/** What a GpuCheckpoint's reconcile reads of the cluster ({@link InformerCheckpointWorld}). */
public interface CheckpointWorld {
  /** The user's pod to checkpoint. */
  Optional<Pod> sourcePod(String namespace, String name);

  /** The checkpoint's storage pod (labelled as one). */
  Optional<Pod> storagePod(String namespace, String name);
}
