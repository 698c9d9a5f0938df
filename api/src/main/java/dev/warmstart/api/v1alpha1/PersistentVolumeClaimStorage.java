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
        @JsonPropertyDescription(
            "Name of the claim. The operator mounts it on the checkpoint's node (a short-lived"
                + " pod) while the agent copies the image onto it, and into the restore's"
                + " placeholder pod, on any node that can mount it; ReadWriteOnce works when no pod"
                + " on another node holds the claim at that moment.")
        String claimName,
    @Pattern("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
        @Size(max = 253)
        @JsonPropertyDescription(
            "Directory of the image store inside the volume; the image is"
                + " <subPath>/<namespace>.<checkpoint name>. Default: warmstart.")
        String subPath) {}
