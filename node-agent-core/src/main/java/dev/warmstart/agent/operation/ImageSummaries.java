package dev.warmstart.agent.operation;

import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ImageSummary;

/** An image as an operation's status reports it to the operator. */
final class ImageSummaries {
  private final String nodeName;

  ImageSummaries(String nodeName) {
    this.nodeName = nodeName;
  }

  ImageSummary of(StoredImage image) {
    Manifest m = image.manifest();
    return new ImageSummary(
        image.name(),
        nodeName,
        image.dir().toString(),
        m.sizeBytes(),
        image.digest(),
        m.createdAt(),
        m.criuVersion(),
        m.gpu());
  }
}
