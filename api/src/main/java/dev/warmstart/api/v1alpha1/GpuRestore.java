package dev.warmstart.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A restore of a GpuCheckpoint into a new (placeholder) pod. */
@Group(ApiNames.GROUP)
@Version(ApiNames.VERSION)
@ShortNames({"gpurestore", "grs"})
@AdditionalPrinterColumn(
    name = "Checkpoint",
    jsonPath = ".spec.checkpointName",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Restore-ms",
    jsonPath = ".status.timings.total",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuRestore extends CustomResource<GpuRestoreSpec, GpuRestoreStatus>
    implements Namespaced {}
