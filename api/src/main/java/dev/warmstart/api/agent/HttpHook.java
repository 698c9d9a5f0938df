package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An HTTP call the agent makes on the workload's own network namespace (before a capture, after a
 * restore). A non-2xx answer or a timeout fails the operation (HookFailed).
 *
 * @param method GET or POST; null means POST
 * @param path path and query, starting with '/' ({@link #PATH_PATTERN})
 * @param port the port the workload listens on, inside its pod
 * @param timeoutSeconds seconds to wait for the answer; null means 30
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HttpHook(HttpMethod method, String path, Integer port, Integer timeoutSeconds) {

  /** '/' then RFC 3986 path and query characters: no space, CR, LF or other control character. */
  public static final String PATH_PATTERN = "^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$";

  public HttpHook {
    method = method == null ? HttpMethod.POST : method;
    timeoutSeconds = timeoutSeconds == null ? 30 : timeoutSeconds;
  }
}
