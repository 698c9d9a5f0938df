package dev.warmstart.agent.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the demo found: the state recorded before the checkpoint against the state after the
 * restore, and the step timings, as --json and as text.
 *
 * @param timingsMs milliseconds per step, in the order they ran
 */
record DemoReport(
    int sizeMib,
    long counter,
    long counterRestored,
    long counterNext,
    String checksum,
    String checksumRestored,
    long pidBefore,
    long pidAfter,
    long imageBytes,
    long coldStartMs,
    long restoreToAnswerMs,
    Map<String, Long> timingsMs) {

  boolean sameChecksum() {
    return checksumRestored.equals(checksum);
  }

  /** The restored counter is the recorded one, and counts on from there. */
  boolean sameCounter() {
    return counterRestored == counter && counterNext == counter + 1;
  }

  boolean ok() {
    return sameChecksum() && sameCounter();
  }

  Map<String, Object> json() {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("ok", ok());
    result.put("counterRecorded", counter);
    result.put("counterRestored", counterRestored);
    result.put("counterNext", counterNext);
    result.put("checksumRecorded", checksum);
    result.put("checksumRestored", checksumRestored);
    result.put("pidBefore", pidBefore);
    result.put("pidAfter", pidAfter);
    result.put("imageBytes", imageBytes);
    result.put("coldStartMs", coldStartMs);
    result.put("restoreToFirstAnswerMs", restoreToAnswerMs);
    result.put("timingsMs", timingsMs);
    return result;
  }

  String text(Path log) {
    StringBuilder human = new StringBuilder();
    human.append(String.format("%n%-32s %8s%n", "step", "ms"));
    timingsMs.forEach((k, v) -> human.append(String.format("%-32s %8d%n", k, v)));
    human.append(
        String.format(
            "%ncounter %d recorded -> %d restored -> %d after one more request (%s)%n"
                + "checksum of %d MiB changed after start: %s%nPID %d -> %d%n",
            counter,
            counterRestored,
            counterNext,
            sameCounter() ? "continued" : "LOST",
            sizeMib,
            sameChecksum() ? "intact" : "CHANGED",
            pidBefore,
            pidAfter));
    human.append(speedNote(coldStartMs, restoreToAnswerMs, imageBytes));
    human.append(
        ok()
            ? "demo OK: the restored process kept the state it built after start"
            : "demo FAILED: state was lost; workload log kept at " + log);
    return human.toString();
  }

  /**
   * Why a restore can lose to a cold start on this sample: its start only fills memory, while a
   * restore reads every page back from the image (digests first). Real workloads spend their cold
   * start loading and warming up, which a restore skips.
   */
  static String speedNote(long coldStartMs, long restoreMs, long imageBytes) {
    if (restoreMs < coldStartMs) {
      return String.format(
          "restore answered %.1fx sooner than a cold start (%d vs %d ms)%n",
          (double) coldStartMs / Math.max(1, restoreMs), restoreMs, coldStartMs);
    }
    return String.format(
        "restore (%d ms) was not faster than this sample's cold start (%d ms): its start only"
            + " fills memory with random bytes, while a restore first checks the sha256 of all"
            + " %s of the image and then has CRIU read every page back; a real workload's cold"
            + " start (loading and warming a model) is what a restore skips%n",
        restoreMs, coldStartMs, ImageViews.mib(imageBytes));
  }
}
