package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;

/** Where the checkpoint image is kept: exactly one of the fields, or none for the default. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!(has(self.hostPath) && has(self.persistentVolumeClaim))",
    message = "storage must name one kind: hostPath or persistentVolumeClaim, not both")
public record CheckpointStorage(
    @JsonPropertyDescription(
            "Keep the image in the node agent's image store on the node (the default); restores"
                + " run on that node. Takes no settings: {}.")
        HostPathStorage hostPath,
    @JsonPropertyDescription(
            "Also keep the image on a PersistentVolumeClaim (a node-local copy stays on the"
                + " checkpoint's node): restores may run on any node that can mount the claim,"
                + " copying the image to that node first, every file's digest checked.")
        PersistentVolumeClaimStorage persistentVolumeClaim) {

  /** The default storage: node-local, under the agent's checkpoint root. */
  public static CheckpointStorage nodeLocal() {
    return new CheckpointStorage(new HostPathStorage(), null);
  }

  @JsonIgnore
  public boolean isNodeLocal() {
    return persistentVolumeClaim == null;
  }
}
