package dev.warmstart.agent.store;

/**
 * A committed image whose manifest, file list, sizes and metadata files are verified, and whose
 * page files are being verified in the background ({@link PageVerification}).
 */
public record OpenedImage(StoredImage image, PageVerification pages) {}
