package dev.warmstart.agent.core;

/** Receives the name of each step as it starts, for progress lines and operation status. */
@FunctionalInterface
public interface Progress {
  Progress NONE = step -> {};

  void step(String name);
}
