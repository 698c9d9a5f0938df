package dev.warmstart.api.agent;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How far a restore goes: the one spelling of it from the operator (a GpuRestore's standby, a
 * pool's tier) through the agent and its CLI ({@code --stage}) to the CRIU plugin (environment
 * {@value #PLUGIN_ENV}, the constant's name as value). A restore short of {@link #RUNNING} is a
 * standby that an ACTIVATE operation finishes.
 */
public enum RestoreStage {
  /**
   * CRIU only: the processes exist with their CUDA state checkpointed and hold no GPU memory; the
   * activation copies the GPU memory back and unlocks (a Warm standby).
   */
  PROCESSES,
  /**
   * The GPU memory copied back too, the processes kept locked: the activation is only the unlock (a
   * Hot standby).
   */
  GPU_LOCKED,
  /** Everything: the processes run (a restore that is not a standby). */
  RUNNING;

  /** The CRIU plugin's environment variable that carries the stage of a restore. */
  public static final String PLUGIN_ENV = "WARMSTART_RESTORE_STAGE";

  /** A standby: the restore stops short of running, until an activation. */
  public boolean standby() {
    return this != RUNNING;
  }

  /** The command-line spelling: processes, gpu-locked, running. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The stage of a command-line spelling ({@link #cliName()}). */
  public static RestoreStage ofCliName(String name) {
    for (RestoreStage s : values()) {
      if (s.cliName().equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown restore stage '"
            + name
            + "'; one of "
            + Arrays.stream(values()).map(RestoreStage::cliName).collect(Collectors.joining(", ")));
  }
}
