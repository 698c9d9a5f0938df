package dev.warmstart.api.agent;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What a finished checkpoint produced (or a restore read), as fields: the operator records them in
 * the checkpoint's artifact and never parses a location.
 *
 * @param name the image's name in the node's store
 * @param node the node whose store holds the image
 * @param directory the image's directory on that node
 * @param manifestDigest sha256 of the manifest ("sha256:<hex>"), the image's digest
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ImageSummary(
    String name,
    String node,
    String directory,
    long sizeBytes,
    String manifestDigest,
    String createdAt,
    String criuVersion,
    GpuInfo gpu) {}
