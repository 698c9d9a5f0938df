package dev.warmstart.api.v1alpha1;

/** HTTP methods a workload hook may use. */
public enum HttpMethod {
  GET,
  POST
}
