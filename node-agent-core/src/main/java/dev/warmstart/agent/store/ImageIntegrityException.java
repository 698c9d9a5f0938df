package dev.warmstart.agent.store;

/** An image's files do not match its manifest (tampered, truncated or incomplete). */
public class ImageIntegrityException extends Exception {
  public ImageIntegrityException(String message) {
    super(message);
  }
}
