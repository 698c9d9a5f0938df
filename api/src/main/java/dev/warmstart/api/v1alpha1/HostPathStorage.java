package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/** Node-local storage under the node agent's checkpoint directory. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HostPathStorage(
    @Pattern("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
        @Size(max = 253)
        @JsonPropertyDescription(
            "Sub-directory below the agent's checkpoint root (Helm value agent.storage.hostPath); "
                + "default: <namespace>/<checkpoint name>. Relative, no '..'.")
        String subPath) {}
