package dev.warmstart.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A capture of one container of a running pod, GPU state included. */
@Group(ApiNames.GROUP)
@Version(ApiNames.VERSION)
@ShortNames({"gpuckpt", "gck"})
@AdditionalPrinterColumn(
    name = "Pod",
    jsonPath = ".spec.podName",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Size",
    jsonPath = ".status.artifact.sizeBytes",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GpuCheckpoint extends CustomResource<GpuCheckpointSpec, GpuCheckpointStatus>
    implements Namespaced {}
