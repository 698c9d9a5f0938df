package dev.warmstart.agent.store;

import java.nio.file.Path;

/** A committed, verified image. */
public record StoredImage(String name, Path dir, Manifest manifest, String digest) {}
