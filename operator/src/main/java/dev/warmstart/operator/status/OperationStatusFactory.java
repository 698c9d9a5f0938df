package dev.warmstart.operator.status;

import static dev.warmstart.api.v1alpha1.ConditionStatus.False;
import static dev.warmstart.api.v1alpha1.ConditionStatus.True;
import static dev.warmstart.api.v1alpha1.ConditionStatus.Unknown;
import static dev.warmstart.api.v1alpha1.ConditionType.Accepted;
import static dev.warmstart.api.v1alpha1.ConditionType.Progressing;
import static dev.warmstart.api.v1alpha1.ConditionType.Ready;

import dev.warmstart.api.v1alpha1.ConditionType;
import dev.warmstart.api.v1alpha1.WarmstartStatus;
import io.fabric8.kubernetes.client.CustomResource;
import java.time.Clock;

/**
 * The status rules of a resource carried out by an agent operation (GpuCheckpoint, GpuRestore):
 * waiting, refused, dispatched, progressing, retried, failed. Each kind names its phases and the
 * words of its messages, and adds the rules only it has.
 */
public abstract class OperationStatusFactory<
        R extends CustomResource<?, S>,
        S extends WarmstartStatus.OfOperation<P>,
        P extends Enum<P>,
        B extends OperationStatusBuilder<S, P, B>>
    extends StatusFactory<R, S, B> {

  private final Phases<P> phases;
  private final String workingOn;

  /**
   * @param workingOn the start of a progress message, before the node: "restoring on node "
   */
  protected OperationStatusFactory(Clock clock, Phases<P> phases, String workingOn) {
    super(clock);
    this.phases = phases;
    this.workingOn = workingOn;
  }

  /**
   * A kind's phases for the shared rules.
   *
   * @param pending not started yet
   * @param working the agent operation runs
   */
  public record Phases<P extends Enum<P>>(P pending, P working, P failed) {}

  @Override
  protected ConditionType errorCondition() {
    return Progressing;
  }

  /** Not started: waiting for something that may still come (a pod, a checkpoint, an agent). */
  public S waiting(R cr, ConditionReason reason, String message) {
    B b = from(cr).phase(phases.pending());
    b.operation = null;
    return b.condition(Accepted, Unknown, reason, message).build(message);
  }

  /** The request cannot work as written: terminal, before anything was created. */
  public S rejected(R cr, ConditionReason reason, String message) {
    return from(cr)
        .phase(phases.failed())
        .condition(Accepted, False, reason, message)
        .condition(Ready, False, reason, message)
        .build(message);
  }

  /** The operation runs; {@code step} is the agent's current step. */
  public S progressing(R cr, String step) {
    B b = from(cr);
    String msg = workingOn + b.node + ": " + (step == null ? "queued" : step);
    return b.phase(phases.working())
        .condition(Progressing, True, ConditionReason.InProgress, msg)
        .build(msg);
  }

  /** The agent could not be reached or is missing; it will be tried again. */
  public S retrying(R cr, String node, ConditionReason reason, String message) {
    B b = from(cr);
    b.phase = b.phase == null ? phases.pending() : b.phase;
    b.node = node;
    b.attempted();
    return b.condition(Progressing, Unknown, reason, message).build(message);
  }

  /** Terminal failure after work began. */
  public S failed(R cr, ConditionReason reason, String message) {
    return failing(cr, reason, message).build(message);
  }

  protected B failing(R cr, ConditionReason reason, String message) {
    return from(cr)
        .phase(phases.failed())
        .condition(Progressing, False, reason, message)
        .condition(Ready, False, reason, message);
  }

  /** The agent accepted operation {@code operationId} on {@code node}. */
  protected B dispatching(R cr, String node, String operationId, String message) {
    B b = from(cr).phase(phases.working());
    b.node = node;
    b.operation = operationId;
    b.attempted();
    return b.condition(Progressing, True, ConditionReason.Dispatched, message);
  }
}
