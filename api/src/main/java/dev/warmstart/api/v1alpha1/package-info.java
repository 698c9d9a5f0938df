/**
 * Custom resources of the {@code warmstart.dev/v1alpha1} API: {@link
 * dev.warmstart.api.v1alpha1.GpuCheckpoint} captures a running (GPU) container, {@link
 * dev.warmstart.api.v1alpha1.GpuRestore} brings it back into a new pod. The CRDs under {@code
 * crds/} are generated from these classes.
 */
package dev.warmstart.api.v1alpha1;
