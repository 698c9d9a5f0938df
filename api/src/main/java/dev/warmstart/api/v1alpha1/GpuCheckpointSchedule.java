package dev.warmstart.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** Keeps a workload's checkpoint fresh: a GpuCheckpoint per cron run, the last N kept. */
@Group(ApiNames.GROUP)
@Version(ApiNames.VERSION)
@ShortNames({"gcs", "gpuckptschedule"})
@Categories({ApiNames.CATEGORY})
@AdditionalPrinterColumn(
    name = "Schedule",
    jsonPath = ".spec.schedule",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Timezone",
    jsonPath = ".spec.timeZone",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Suspend",
    jsonPath = ".spec.suspend",
    type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(
    name = "Running",
    jsonPath = ".status.active[0]",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Last-Success",
    jsonPath = ".status.lastSuccessfulCheckpoint",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Last-Schedule",
    jsonPath = ".status.lastScheduleTime",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "Next",
    jsonPath = ".status.nextScheduleTime",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuCheckpointSchedule
    extends CustomResource<GpuCheckpointScheduleSpec, GpuCheckpointScheduleStatus>
    implements Namespaced {
  /** Label on each GpuCheckpoint a schedule created: the schedule's name. */
  public static final String SCHEDULE_LABEL = "warmstart.dev/schedule";

  /** Annotation on each GpuCheckpoint a schedule created: the run's scheduled time (RFC 3339). */
  public static final String SCHEDULED_AT_ANNOTATION = "warmstart.dev/scheduled-at";
}
