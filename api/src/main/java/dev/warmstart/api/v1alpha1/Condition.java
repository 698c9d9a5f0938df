package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** One observation of the resource's state, shaped like metav1.Condition. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Condition(
    @Required @JsonPropertyDescription("What the condition is about.") ConditionType type,
    @Required @JsonPropertyDescription("Whether it holds: True, False or Unknown.")
        ConditionStatus status,
    @Required
        @Pattern(ApiNames.CONDITION_REASON)
        @Size(min = 1, max = 1024)
        @JsonPropertyDescription(
            "Why, as one CamelCase word a program can match on, e.g. PodNotRunning.")
        String reason,
    @Size(max = 32768) @JsonPropertyDescription("Why, for a person.") String message,
    @JsonPropertyDescription("The metadata.generation this condition was computed from.")
        Long observedGeneration,
    @Required
        @JsonPropertyDescription(
            "When status last changed (RFC 3339); unchanged when only reason or message change.")
        String lastTransitionTime) {}
