/**
 * The agent's side of the GPU memory shim (gpu-shim/, {@code libwarmstart_gpumem.so}): finds the
 * shim in a process tree by its control socket, and asks it to move the tree's managed GPU memory
 * out to the image before a dump and back after a restore, over the socket protocol described in
 * gpu-shim/src/control.c.
 */
package dev.warmstart.agent.gpumem;
