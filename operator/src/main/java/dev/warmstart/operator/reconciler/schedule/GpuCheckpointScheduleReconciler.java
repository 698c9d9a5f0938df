package dev.warmstart.operator.reconciler.schedule;

import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.operator.reconciler.ReconcileErrors;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.status.ScheduleStatusFactory;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.List;
import java.util.Set;

/**
 * GpuCheckpointSchedule: its checkpoints come from an informer (labelled with the schedule's name),
 * so a checkpoint finishing wakes the schedule (last success, retention) without polling; the next
 * run is a timed requeue.
 */
@ControllerConfiguration(name = "gpucheckpointschedule")
public class GpuCheckpointScheduleReconciler implements Reconciler<GpuCheckpointSchedule> {
  private final ScheduleWorkflow workflow;
  private final StatusWriter statusWriter;
  private final ReconcileErrors errors;
  private final ScheduleStatusFactory status;

  public GpuCheckpointScheduleReconciler(
      ScheduleWorkflow workflow,
      KubernetesClient client,
      ReconcileErrors errors,
      ScheduleStatusFactory status) {
    this.workflow = workflow;
    this.statusWriter = new StatusWriter(client);
    this.errors = errors;
    this.status = status;
  }

  @Override
  public List<EventSource<?, GpuCheckpointSchedule>> prepareEventSources(
      EventSourceContext<GpuCheckpointSchedule> context) {
    var config =
        InformerEventSourceConfiguration.from(GpuCheckpoint.class, GpuCheckpointSchedule.class)
            .withLabelSelector(GpuCheckpointSchedule.SCHEDULE_LABEL)
            .withSecondaryToPrimaryMapper(
                ck ->
                    Set.of(
                        new ResourceID(
                            ck.getMetadata().getLabels().get(GpuCheckpointSchedule.SCHEDULE_LABEL),
                            ck.getMetadata().getNamespace())))
            .build();
    return List.of(new InformerEventSource<>(config, context));
  }

  @Override
  public UpdateControl<GpuCheckpointSchedule> reconcile(
      GpuCheckpointSchedule cr, Context<GpuCheckpointSchedule> context) {
    List<GpuCheckpoint> children = List.copyOf(context.getSecondaryResources(GpuCheckpoint.class));
    return statusWriter.apply(cr, workflow.step(cr, children), context);
  }

  @Override
  public ErrorStatusUpdateControl<GpuCheckpointSchedule> updateErrorStatus(
      GpuCheckpointSchedule cr, Context<GpuCheckpointSchedule> context, Exception e) {
    return errors.handle(cr, context, e, status::reconcileError);
  }
}
