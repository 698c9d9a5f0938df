package dev.warmstart.agent.store;

/** No committed image of that name. */
public class ImageNotFoundException extends Exception {
  public ImageNotFoundException(String name) {
    super("no checkpoint image named '" + name + "'");
  }
}
