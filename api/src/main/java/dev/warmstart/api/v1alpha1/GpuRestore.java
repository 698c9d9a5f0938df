package dev.warmstart.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A restore of a GpuCheckpoint into a new (placeholder) pod. Restore-ms is the agent's restore of
 * the image; Activate-ms, for a standby taken from a pool, the activation that let it run.
 */
@Group(ApiNames.GROUP)
@Version(ApiNames.VERSION)
@ShortNames({"gpurestore", "grs"})
@Categories({ApiNames.CATEGORY})
@AdditionalPrinterColumn(
    name = "Checkpoint",
    jsonPath = ".spec.checkpointName",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Phase",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Node",
    jsonPath = ".status.nodeName",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Tier",
    jsonPath = ".spec.standby",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Restore-ms",
    jsonPath = ".status.timings.total",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Activate-ms",
    jsonPath = ".status.timings.activation",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Pod",
    jsonPath = ".status.podName",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Pool",
    jsonPath = ".spec.poolName",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuRestore extends CustomResource<GpuRestoreSpec, GpuRestoreStatus>
    implements Namespaced {}
