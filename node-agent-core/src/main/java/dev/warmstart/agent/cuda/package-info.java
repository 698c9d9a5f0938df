/**
 * JNA bindings to the NVIDIA driver: libcuda (contexts, devices, the checkpoint API) and NVML
 * (driver version, memory, compute processes). Bindings and their error handling only; what the
 * agent does with them lives in {@code dev.warmstart.agent.gpu}.
 */
package dev.warmstart.agent.cuda;
