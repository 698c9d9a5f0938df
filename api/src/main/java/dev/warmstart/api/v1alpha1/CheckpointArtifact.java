package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;

/**
 * A stored checkpoint image and what a restore needs to know about it, as typed fields: the node,
 * the image's name and directory there, and the storage it is kept on. {@code location} is only a
 * display of those (for people and the printer column), derived here and never parsed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointArtifact(
    @JsonPropertyDescription(
            "Node whose agent wrote the image and keeps a copy in its image store (the only copy"
                + " for node-local storage).")
        String node,
    @JsonPropertyDescription(
            "Name of the image in the agent's image store (and on the claim): <namespace>.<name>.")
        String imageName,
    @JsonPropertyDescription(
            "Where the image is kept: hostPath (node-local) or persistentVolumeClaim (with the"
                + " claim and the image store's directory inside it, defaults applied).")
        CheckpointStorage storage,
    @JsonPropertyDescription("Directory of the image on the node.") String path,
    @JsonPropertyDescription(
            "Display of node, path and storage, for people: 'hostpath://<node><path>' or"
                + " 'pvc://<claim>/<subPath>/<imageName>'. Derived from those fields.")
        String location,
    @JsonPropertyDescription("Total size of the image files in bytes.") Long sizeBytes,
    @JsonPropertyDescription(
            "sha256 of the image manifest ('sha256:<hex>'), which lists every file's sha256.")
        String digest,
    @JsonPropertyDescription("When the image was completed (RFC 3339).") String createdAt,
    @PreserveUnknownFields
        @SchemaFrom(type = Object.class)
        @JsonPropertyDescription(
            "Pod template of the source pod (image, resources, volumes), used for placeholders.")
        PodTemplateSpec sourcePodTemplate,
    @JsonPropertyDescription("The container that was captured.") String containerName,
    @JsonPropertyDescription("GPUs of the source; absent for CPU-only workloads.") GpuInfo gpu,
    @JsonPropertyDescription("CRIU version that wrote the image.") String criuVersion) {

  public CheckpointArtifact {
    location = display(node, imageName, storage, path);
  }

  /** Kept on a PersistentVolumeClaim (besides the node's copy), so any node may restore it. */
  @JsonIgnore
  public boolean onClaim() {
    return storage != null && storage.persistentVolumeClaim() != null;
  }

  private static String display(
      String node, String imageName, CheckpointStorage storage, String path) {
    if (storage != null && storage.persistentVolumeClaim() != null) {
      PersistentVolumeClaimStorage c = storage.persistentVolumeClaim();
      return "pvc://" + c.claimName() + "/" + c.subPath() + "/" + imageName;
    }
    return node == null || path == null ? null : "hostpath://" + node + path;
  }

  /** A builder for the artifact of image {@code imageName} on {@code node}. */
  public static Builder builder(String node, String imageName) {
    return new Builder(node, imageName);
  }

  /** Builds a {@link CheckpointArtifact}; storage defaults to node-local. */
  public static final class Builder {
    private final String node;
    private final String imageName;
    private CheckpointStorage storage = CheckpointStorage.nodeLocal();
    private String path;
    private Long sizeBytes;
    private String digest;
    private String createdAt;
    private PodTemplateSpec sourcePodTemplate;
    private String containerName;
    private GpuInfo gpu;
    private String criuVersion;

    private Builder(String node, String imageName) {
      this.node = node;
      this.imageName = imageName;
    }

    public Builder storage(CheckpointStorage storage) {
      this.storage = storage;
      return this;
    }

    public Builder path(String path) {
      this.path = path;
      return this;
    }

    public Builder sizeBytes(Long sizeBytes) {
      this.sizeBytes = sizeBytes;
      return this;
    }

    public Builder digest(String digest) {
      this.digest = digest;
      return this;
    }

    public Builder createdAt(String createdAt) {
      this.createdAt = createdAt;
      return this;
    }

    public Builder sourcePodTemplate(PodTemplateSpec template) {
      this.sourcePodTemplate = template;
      return this;
    }

    public Builder containerName(String containerName) {
      this.containerName = containerName;
      return this;
    }

    public Builder gpu(GpuInfo gpu) {
      this.gpu = gpu;
      return this;
    }

    public Builder criuVersion(String criuVersion) {
      this.criuVersion = criuVersion;
      return this;
    }

    public CheckpointArtifact build() {
      return new CheckpointArtifact(
          node,
          imageName,
          storage,
          path,
          null,
          sizeBytes,
          digest,
          createdAt,
          sourcePodTemplate,
          containerName,
          gpu,
          criuVersion);
    }
  }
}
