package dev.warmstart.agent.it;

import java.nio.file.Path;

/** A real container the placeholder tests restore into. */
interface TestContainer extends AutoCloseable {
  String id();

  int initPid() throws Exception;

  Path volume();

  /** Next line of its stdout starting with {@code prefix}, within 20 s. */
  String awaitLine(String prefix) throws Exception;

  /** Runs a command inside it and returns the output. */
  String exec(String... cmd) throws Exception;

  /** Kills it the way its runtime's users would (runc kill / podman stop). */
  void kill() throws Exception;
}
