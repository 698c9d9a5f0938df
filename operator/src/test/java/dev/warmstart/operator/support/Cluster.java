package dev.warmstart.operator.support;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;

/**
 * What a kubelet and users would put into the API server, for tests against the mock server (CRUD
 * mode): pods with a running status, and the custom resources.
 */
public final class Cluster {
  public static final String NS = "ml";
  private final KubernetesClient client;

  public Cluster(KubernetesClient client) {
    this.client = client;
  }

  /** A running single-container pod on {@code node} requesting one GPU. */
  public Pod runningPod(String name, String node) {
    Pod pod =
        new PodBuilder()
            .withMetadata(
                new ObjectMetaBuilder()
                    .withName(name)
                    .withNamespace(NS)
                    .withLabels(Map.of("app", "llm", "pod-template-hash", "abc"))
                    .build())
            .withNewSpec()
            .withNodeName(node)
            .addToContainers(
                new ContainerBuilder()
                    .withName("server")
                    .withImage("vllm/vllm-openai:v0.11")
                    .withCommand("python3", "-m", "vllm.entrypoints.openai.api_server")
                    .withNewReadinessProbe()
                    .withNewHttpGet()
                    .withPath("/health")
                    .withNewPort(8000)
                    .endHttpGet()
                    .endReadinessProbe()
                    .withNewResources()
                    .addToLimits("nvidia.com/gpu", new Quantity("1"))
                    .endResources()
                    .build())
            .endSpec()
            .build();
    pod = client.resource(pod).create();
    return markRunning(pod, "server", "containerd://" + name + "-cid");
  }

  public Pod markRunning(Pod pod, String container, String containerId) {
    pod.setStatus(
        new PodStatusBuilder()
            .withPhase("Running")
            .withContainerStatuses(
                new ContainerStatusBuilder()
                    .withName(container)
                    .withContainerID(containerId)
                    .withNewState()
                    .withNewRunning()
                    .endRunning()
                    .endState()
                    .build())
            .build());
    return client.resource(pod).updateStatus();
  }

  /** Plays the scheduler: the pod cannot be placed, for {@code why}. */
  public Pod markUnschedulable(Pod pod, String why) {
    pod.setStatus(
        new PodStatusBuilder()
            .withPhase("Pending")
            .withConditions(
                new PodConditionBuilder()
                    .withType("PodScheduled")
                    .withStatus("False")
                    .withReason("Unschedulable")
                    .withMessage(why)
                    .build())
            .build());
    return client.resource(pod).updateStatus();
  }

  public GpuCheckpoint checkpoint(String name, String pod) {
    GpuCheckpoint cr = new GpuCheckpoint();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    cr.setSpec(new GpuCheckpointSpec(pod, null, null, null, null, null));
    return client.resource(cr).create();
  }

  public GpuRestore restore(String name, String checkpoint, String nodeName) {
    GpuRestore cr = new GpuRestore();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    cr.setSpec(new GpuRestoreSpec(checkpoint, null, nodeName, null, null));
    return client.resource(cr).create();
  }
}
