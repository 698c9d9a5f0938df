package dev.warmstart.agent.store;

/** A checkpoint would overwrite an image of the same name, and replacing was not asked for. */
public class ImageExistsException extends Exception {
  public ImageExistsException(String name) {
    super(
        "image '"
            + name
            + "' already exists: delete it, choose another name or ask to replace it (--replace)");
  }
}
