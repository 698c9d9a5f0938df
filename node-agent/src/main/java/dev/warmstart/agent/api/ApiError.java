package dev.warmstart.agent.api;

/** Body of every 4xx/5xx answer: a reason to match on and a message for a person. */
public record ApiError(String reason, String message) {}
