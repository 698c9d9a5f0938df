package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.warmstart.api.v1alpha1.GpuInfo;

/** What a finished checkpoint produced. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ImageSummary(
    String name,
    String location,
    long sizeBytes,
    String manifestDigest,
    String createdAt,
    String criuVersion,
    GpuInfo gpu) {}
