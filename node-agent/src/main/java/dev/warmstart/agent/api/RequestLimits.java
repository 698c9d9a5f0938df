package dev.warmstart.agent.api;

import dev.warmstart.api.agent.ActivateRequest;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.HttpHook;
import dev.warmstart.api.agent.OperationRequest;
import dev.warmstart.api.agent.ProcessTarget;
import dev.warmstart.api.agent.RestoreRequest;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Bounds and shapes of every field of a submitted operation, checked before anything is journaled
 * or touched: what the CRD's schema holds the operator to, and what the agent itself needs (a
 * container id that names a directory, GPU UUIDs the driver takes, labels small enough to keep in
 * the journal and the manifest forever). A violation is a 400 naming the field.
 */
final class RequestLimits {
  static final int MAX_LABELS = 32;
  static final int MAX_LABEL_KEY = 253;
  static final int MAX_LABEL_VALUE = 1024;
  static final int MAX_GPUS = 64;

  private static final Pattern CONTAINER_ID =
      Pattern.compile("^([a-z0-9-]{1,32}://)?[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$");
  private static final Pattern GPU_UUID =
      Pattern.compile(
          "^GPU-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  private static final Pattern OPERATION_ID = Pattern.compile("^[A-Za-z0-9._-]{1,128}$");
  private static final Pattern LABEL_KEY =
      Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$");
  private static final Pattern HOOK_PATH = Pattern.compile(HttpHook.PATH_PATTERN);
  private static final int MAX_PID = 1 << 22; // the kernel's PID_MAX_LIMIT

  private RequestLimits() {}

  /** Throws IllegalArgumentException (answered 400 InvalidRequest) for the first bad field. */
  static void check(OperationRequest r) {
    if (r == null) {
      throw new IllegalArgumentException("the request body is empty");
    }
    printable("idempotencyKey", r.idempotencyKey(), 253);
    if (r.checkpoint() != null) {
      checkpoint(r.checkpoint());
    }
    if (r.restore() != null) {
      restore(r.restore());
    }
    if (r.activate() != null) {
      activate(r.activate());
    }
  }

  private static void checkpoint(CheckpointRequest c) {
    ProcessTarget t = c.target();
    if (t != null) {
      if (t.pid() != null && (t.pid() < 1 || t.pid() > MAX_PID)) {
        throw new IllegalArgumentException(
            "checkpoint.target.pid must be between 1 and " + MAX_PID + ", was " + t.pid());
      }
      matches("checkpoint.target.containerId", t.containerId(), CONTAINER_ID);
    }
    hook("checkpoint.preCheckpointHook", c.preCheckpointHook());
    labels(c.labels());
  }

  private static void restore(RestoreRequest r) {
    matches("restore.intoContainerId", r.intoContainerId(), CONTAINER_ID);
    gpus("restore.targetGpuUuids", r.targetGpuUuids());
    hook("restore.postRestoreHook", r.postRestoreHook());
  }

  private static void activate(ActivateRequest a) {
    matches("activate.restoreOperationId", a.restoreOperationId(), OPERATION_ID);
    gpus("activate.targetGpuUuids", a.targetGpuUuids());
  }

  private static void hook(String field, HttpHook h) {
    if (h == null) {
      return;
    }
    if (h.path() == null || h.path().length() > 2048 || !HOOK_PATH.matcher(h.path()).matches()) {
      throw new IllegalArgumentException(
          field
              + ".path "
              + quoted(h.path())
              + " is not valid: '/' then letters, digits and RFC 3986 path/query characters"
              + " (no spaces or control characters), at most 2048");
    }
    if (h.port() == null || h.port() < 1 || h.port() > 65535) {
      throw new IllegalArgumentException(field + ".port must be 1 to 65535, was " + h.port());
    }
    if (h.timeoutSeconds() < 1 || h.timeoutSeconds() > 3600) {
      throw new IllegalArgumentException(
          field + ".timeoutSeconds must be 1 to 3600, was " + h.timeoutSeconds());
    }
  }

  private static void labels(Map<String, String> labels) {
    if (labels == null) {
      return;
    }
    if (labels.size() > MAX_LABELS) {
      throw new IllegalArgumentException(
          "checkpoint.labels has " + labels.size() + " entries, at most " + MAX_LABELS);
    }
    for (Map.Entry<String, String> e : labels.entrySet()) {
      String key = e.getKey();
      if (key == null || key.length() > MAX_LABEL_KEY || !LABEL_KEY.matcher(key).matches()) {
        throw new IllegalArgumentException(
            "checkpoint.labels key "
                + quoted(key)
                + " is not valid: letters, digits, '.', '_', '-', '/' (at most "
                + MAX_LABEL_KEY
                + ")");
      }
      printable("checkpoint.labels[" + key + "]", e.getValue(), MAX_LABEL_VALUE);
    }
  }

  private static void gpus(String field, List<String> uuids) {
    if (uuids == null) {
      return;
    }
    if (uuids.size() > MAX_GPUS) {
      throw new IllegalArgumentException(field + " names " + uuids.size() + " GPUs, at most 64");
    }
    for (String u : uuids) {
      if (u == null || !GPU_UUID.matcher(u).matches()) {
        throw new IllegalArgumentException(
            field
                + " entry "
                + quoted(u)
                + " is not a GPU UUID (GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
      }
    }
  }

  private static void matches(String field, String value, Pattern p) {
    if (value != null && !p.matcher(value).matches()) {
      throw new IllegalArgumentException(field + " " + quoted(value) + " is not valid");
    }
  }

  /** Null, or at most {@code max} printable characters (no control characters). */
  private static void printable(String field, String value, int max) {
    if (value == null) {
      return;
    }
    if (value.length() > max) {
      throw new IllegalArgumentException(
          field + " is " + value.length() + " characters long, at most " + max);
    }
    if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new IllegalArgumentException(
          field + " " + quoted(value) + " holds a control character");
    }
  }

  /** The value for a message: control characters escaped, long values cut. */
  static String quoted(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder("'");
    s.substring(0, Math.min(s.length(), 100))
        .chars()
        .forEach(
            c ->
                b.append(
                    c >= 0x20 && c != 0x7f
                        ? String.valueOf((char) c)
                        : String.format("\\u%04x", c)));
    return b.append(s.length() > 100 ? "...'" : "'").toString();
  }
}
