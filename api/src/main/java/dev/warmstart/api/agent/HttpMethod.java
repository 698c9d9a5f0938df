package dev.warmstart.api.agent;

/** HTTP methods a workload hook may use. */
public enum HttpMethod {
  GET,
  POST
}
