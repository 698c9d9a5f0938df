/**
 * Messages between the operator and the node agent's HTTP API (JSON). An operation is submitted
 * once per idempotency key and then polled; the agent journals it so a restart neither loses nor
 * repeats it.
 */
package dev.warmstart.api.agent;
