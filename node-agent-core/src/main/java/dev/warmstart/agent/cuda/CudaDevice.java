package dev.warmstart.agent.cuda;

/** One GPU as the driver enumerates it. */
public record CudaDevice(int ordinal, String uuid, String name, long totalMemoryBytes) {}
