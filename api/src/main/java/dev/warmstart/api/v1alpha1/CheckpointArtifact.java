package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.PreserveUnknownFields;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;

/** A stored checkpoint image and what a restore needs to know about it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointArtifact(
    @JsonPropertyDescription(
            "Where the image is: node-local 'hostpath://<node>/<path>' or 'pvc://<claim>/<path>'.")
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
    @JsonPropertyDescription("CRIU version that wrote the image.") String criuVersion) {}
