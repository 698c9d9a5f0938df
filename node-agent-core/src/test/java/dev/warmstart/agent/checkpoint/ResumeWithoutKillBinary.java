package dev.warmstart.agent.checkpoint;

import dev.warmstart.agent.proc.Procfs;
import java.util.List;

/**
 * Resumes one stopped PID the way recovery does and prints how many tasks it resumed; run by
 * TreeResumerTest in a JVM whose PATH has no kill(1), like the agent image.
 */
public final class ResumeWithoutKillBinary {
  private ResumeWithoutKillBinary() {}

  public static void main(String[] args) {
    System.out.println(new TreeResumer(new Procfs()).resume(List.of(Integer.parseInt(args[0]))));
  }
}
