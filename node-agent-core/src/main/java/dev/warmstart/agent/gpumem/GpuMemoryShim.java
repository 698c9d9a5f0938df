package dev.warmstart.agent.gpumem;

import java.nio.file.Path;

/**
 * A process of a tree that runs the shim.
 *
 * @param hostPid its PID on the node
 * @param nsPid its PID in its own PID namespace: the shim's socket and payload directory are named
 *     by it, and CRIU keeps it across a dump and restore
 * @param socket the control socket, reached through {@code /proc/<hostPid>/root}
 */
public record GpuMemoryShim(int hostPid, int nsPid, Path socket) {}
