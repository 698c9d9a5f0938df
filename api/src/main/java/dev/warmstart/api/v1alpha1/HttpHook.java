package dev.warmstart.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * An HTTP call the node agent makes on the workload's own network namespace, e.g. to make a server
 * release cached GPU memory before capture. A non-2xx answer or a timeout fails the operation.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HttpHook(
    @Default("POST") @JsonPropertyDescription("GET or POST.") HttpMethod method,
    @Required
        @Pattern(HttpHook.PATH_PATTERN)
        @Size(max = 2048)
        @JsonPropertyDescription("Path and query, starting with '/', e.g. /sleep?level=1.")
        String path,
    @Required
        @Min(1)
        @Max(65535)
        @JsonPropertyDescription("Port the workload listens on, inside its pod.")
        Integer port,
    @Default("30") @Min(1) @Max(3600) @JsonPropertyDescription("Seconds to wait for the answer.")
        Integer timeoutSeconds) {

  /** '/' then RFC 3986 path and query characters: no space, CR, LF or other control character. */
  public static final String PATH_PATTERN = dev.warmstart.api.agent.HttpHook.PATH_PATTERN;

  public HttpHook {
    method = method == null ? HttpMethod.POST : method;
    timeoutSeconds = timeoutSeconds == null ? 30 : timeoutSeconds;
  }
}
