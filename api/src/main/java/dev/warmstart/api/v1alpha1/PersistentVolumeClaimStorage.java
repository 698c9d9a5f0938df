package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A PersistentVolumeClaim in the checkpoint's namespace, so the image can move between nodes. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PersistentVolumeClaimStorage(
    @Required
        @Pattern(ApiNames.DNS_SUBDOMAIN)
        @Size(min = 1, max = 253)
        @JsonPropertyDescription("Name of the claim (ReadWriteMany to restore on another node).")
        String claimName,
    @Pattern("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
        @Size(max = 253)
        @JsonPropertyDescription("Directory inside the volume; default: <checkpoint name>.")
        String subPath) {}
