package dev.warmstart.agent;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The node agent's settings (application.properties, env WARMSTART_AGENT_*, Helm values). */
@ConfigMapping(prefix = "warmstart.agent")
public interface AgentConfig {
  /** Image store directory on the node (0700). */
  @WithDefault("/var/lib/warmstart/images")
  Path storeRoot();

  /** Operation journal directory on the node. */
  @WithDefault("/var/lib/warmstart/journal")
  Path journalDir();

  /** The criu executable. */
  @WithDefault("/opt/warmstart/criu/bin/criu")
  Path criuBinary();

  /** Folder with warmstart_cuda_plugin.so, passed to CRIU as --libdir. */
  Optional<Path> pluginDir();

  /** libcuda for the CUDA plugin (default: the loader's libcuda.so.1). */
  Optional<Path> libcuda();

  /** runc state directories where containers are looked up. */
  @WithDefault("/run/runc,/run/containerd/runc/k8s.io,/run/containerd/runc/default")
  List<Path> runcStateRoots();

  /** This node's name (the DaemonSet passes spec.nodeName). */
  @WithDefault("localhost")
  String nodeName();

  /**
   * Operations that may run at once (different images only), on threads of their own: the API,
   * TokenReviews and health checks never wait behind them.
   */
  @WithDefault("4")
  int workers();

  /** Operations accepted and not yet ended, at most; beyond it a submit gets HTTP 429. */
  @WithDefault("64")
  int maxOperations();

  Auth auth();

  Gpu gpu();

  WritableLayer writableLayer();

  /** What a container checkpoint carries of the container's writable layer (rootfs changes). */
  interface WritableLayer {
    /** A checkpoint whose container changed more bytes of files fails (UnsupportedWorkload). */
    @WithDefault("4294967296")
    long maxBytes();

    /** Glob patterns of container paths not to carry, e.g. {@code /tmp/**,/var/cache/apt/**}. */
    Optional<List<String>> exclude();
  }

  /**
   * Transparent huge page policy while checkpoints and restores run (always, madvise, never);
   * unset: the node's policy is left alone. Restored after each operation and after a crash.
   */
  Optional<String> thp();

  /** The kernel's THP switch (a setting for tests). */
  @WithDefault("/sys/kernel/mm/transparent_hugepage/enabled")
  Path thpSysfs();

  /** How the agent uses the node's GPUs. */
  interface Gpu {
    /** Off: CPU-only, even where a driver is installed. */
    @WithDefault("true")
    boolean enabled();

    /** Hold a primary CUDA context on each selected GPU while the agent runs. */
    @WithDefault("true")
    boolean warmPool();

    /** GPUs for the warm pool, by UUID or ordinal; empty: all. */
    Optional<List<String>> devices();

    /** libnvidia-ml for memory use and per-process GPUs (default: the loader's). */
    Optional<Path> nvml();
  }

  /** Who may call the agent's HTTP API. */
  interface Auth {
    /** Off only for local development: every /v1 call then goes through unauthenticated. */
    @WithDefault("true")
    boolean enabled();

    /** Audience the operator's projected ServiceAccount token is issued for. */
    @WithDefault("warmstart-agent")
    String audience();

    /** The one identity allowed: the operator's ServiceAccount. */
    @WithDefault("system:serviceaccount:warmstart-system:warmstart-operator")
    String allowedUser();

    /** How long a successful TokenReview is trusted before asking again. */
    @WithDefault("60")
    int cacheSeconds();

    /** How long a refused token (unknown, expired, wrong audience or user) stays refused. */
    @WithDefault("10")
    int negativeCacheSeconds();

    /**
     * TokenReviews in flight at once; a call beyond waits at most {@link #reviewTimeoutMillis()}
     * for a place, then gets 503.
     */
    @WithDefault("4")
    int maxConcurrentReviews();

    /** Time for one TokenReview, without retries: a failing API server costs one short wait. */
    @WithDefault("3000")
    int reviewTimeoutMillis();
  }
}
