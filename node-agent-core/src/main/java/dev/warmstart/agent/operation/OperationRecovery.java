package dev.warmstart.agent.operation;

import dev.warmstart.agent.checkpoint.CheckpointService;
import dev.warmstart.agent.checkpoint.TreeResumer;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.store.ImageExistsException;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StagedCheckpoint;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.CheckpointRequest;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationKind;
import dev.warmstart.api.agent.OperationRequest;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Brings journaled operations back after a restart, never repeating half-done work: accepted work
 * runs, an interrupted delete runs again (it is idempotent), an interrupted restore or activation
 * fails with reason Interrupted, and an interrupted checkpoint keeps an image CRIU had finished or
 * puts back what the dump left on the workload.
 */
final class OperationRecovery {
  private final AgentComponents agent;
  private final OperationLedger ledger;
  private final StatusTransitions statuses;
  private final ImageSummaries summaries;
  private final Consumer<String> dispatch;
  private final List<String> recovered = new CopyOnWriteArrayList<>();

  /**
   * @param dispatch queues an operation by id to run (again)
   */
  OperationRecovery(
      AgentComponents agent,
      OperationLedger ledger,
      StatusTransitions statuses,
      ImageSummaries summaries,
      Consumer<String> dispatch) {
    this.agent = agent;
    this.ledger = ledger;
    this.statuses = statuses;
    this.summaries = summaries;
    this.dispatch = dispatch;
  }

  void recover() throws IOException {
    for (OperationJournal.Entry e : ledger.load()) {
      String id = e.status().id();
      switch (e.status().state()) {
        case ACCEPTED -> dispatch.accept(id);
        case RUNNING -> recoverInterrupted(e);
        default -> {}
      }
    }
    // Staged images of operations that ended, or of no operation: nobody will commit them.
    agent.store().sweepStaging();
  }

  /** What recovery found, one line per interrupted operation (logged, and for readiness). */
  List<String> recovered() {
    return List.copyOf(recovered);
  }

  private void recoverInterrupted(OperationJournal.Entry e) {
    String id = e.status().id();
    OperationRequest req = e.request();
    if (req.kind() == OperationKind.CHECKPOINT) {
      recoverCheckpoint(id, req.checkpoint());
    } else if (req.kind() == OperationKind.DELETE_IMAGE) {
      dispatch.accept(id);
    } else {
      String message =
          "the agent restarted during the "
              + req.kind().name().toLowerCase(Locale.ROOT)
              + "; it was not repeated: check whether the process runs before retrying";
      failed(id, message);
    }
  }

  /**
   * An agent that died during a checkpoint: CRIU got SIGTERM with it and undid the dump, or had
   * finished it. A complete staged image is committed (the operation succeeded: with
   * leaveRunning=false the workload is already gone); otherwise it is removed, the tree is checked
   * (resumed, sockets out of repair, CUDA unlocked) and the failure says what is true now.
   */
  private void recoverCheckpoint(String id, CheckpointRequest c) {
    Optional<StoredImage> done = committedBy(id, c.imageName());
    if (done.isPresent()) {
      succeeded(id, done.get(), "the image was committed before the restart");
      return;
    }
    List<Integer> frozen = List.of();
    String staging = "";
    try {
      for (StagedCheckpoint staged : agent.store().staged(id)) {
        try (ScratchDir dir = staged.dir()) {
          frozen = staged.pending().manifest().source().processes();
          if (staged.complete()) {
            StoredImage image = agent.store().commitRecovered(dir, staged.pending());
            succeeded(id, image, "CRIU had finished the dump: the staged image was committed");
            return;
          }
          staging = " (CRIU had not finished: its partial image was removed)";
        } catch (ImageExistsException | IOException | RuntimeException x) {
          staging = " (the staged image could not be committed: " + x.getMessage() + ")";
        }
      }
    } catch (IOException x) {
      staging = " (the staging area could not be read: " + x.getMessage() + ")";
    }
    TreeResumer.Undo undo = agent.checkpoints().undoInterrupted(c.target(), frozen);
    failed(
        id,
        "the agent restarted during the checkpoint; no image was kept"
            + staging
            + "; "
            + undo.describe());
  }

  private void succeeded(String id, StoredImage image, String why) {
    recovered.add(id + ": " + why);
    ledger.update(
        id, s -> statuses.succeeded(s, image.manifest().timings(), summaries.of(image), null));
  }

  private void failed(String id, String message) {
    recovered.add(id + ": " + message);
    ledger.update(id, s -> statuses.failed(s, ErrorReason.Interrupted, message));
  }

  /** The image of {@code imageName} if this very operation committed it. */
  private Optional<StoredImage> committedBy(String id, String imageName) {
    try {
      StoredImage image = agent.store().open(imageName);
      Map<String, String> labels = image.manifest().labels();
      return labels != null && id.equals(labels.get(CheckpointService.OPERATION_LABEL))
          ? Optional.of(image)
          : Optional.empty();
    } catch (Exception notThere) {
      return Optional.empty();
    }
  }
}
