/**
 * The agent's GPU side: what GPUs the node has, the warm contexts it holds on them, what a
 * checkpoint records about a workload's GPUs, whether a restore target fits, and the driver half of
 * a two-step restore.
 */
package dev.warmstart.agent.gpu;
