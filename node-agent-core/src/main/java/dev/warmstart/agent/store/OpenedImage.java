package dev.warmstart.agent.store;

import java.nio.file.Path;

/**
 * A committed image whose manifest, file list, sizes and metadata files are verified, and whose
 * page files are being verified in the background ({@link PageVerification}).
 *
 * @param files the directory the verified files were read from and CRIU must read (the image's own,
 *     or the hard-linked view of {@link ImageStore#openForRestore})
 */
public record OpenedImage(StoredImage image, PageVerification pages, Path files) {}
