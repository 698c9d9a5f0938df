package dev.warmstart.api.v1alpha1;

/** Names and patterns shared by the schema annotations and the code that checks them. */
public final class ApiNames {
  public static final String GROUP = "warmstart.dev";
  public static final String VERSION = "v1alpha1";

  /** `kubectl get warmstart` lists every kind of the group. */
  public static final String CATEGORY = "warmstart";

  /** RFC 1123 subdomain, as Kubernetes object names (pods, claims). */
  public static final String DNS_SUBDOMAIN =
      "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

  /** RFC 1123 label, as container names. */
  public static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  /** metav1.Condition's reason pattern: CamelCase. */
  public static final String CONDITION_REASON = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";

  private ApiNames() {}
}
