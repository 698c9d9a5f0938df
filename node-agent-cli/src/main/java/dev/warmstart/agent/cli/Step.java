package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.ImageNotFoundException;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** Runs a step and turns known failures into a message and an exit code. */
abstract class Step implements Callable<Integer> {
  @CommandLine.ParentCommand WarmstartCli cli;

  abstract int run(AgentComponents c, Output out) throws Exception;

  @Override
  public Integer call() {
    Output out = cli.output();
    try {
      return run(cli.components(), out);
    } catch (CommandLine.ParameterException e) {
      throw e; // picocli prints it with the usage and exits 2
    } catch (CliFailure e) {
      out.error(e.reason(), e.getMessage());
      return e.exitCode();
    } catch (OperationFailure e) {
      out.error(e.reason().name(), e.getMessage());
      return ExitCodes.of(e.reason());
    } catch (ImageNotFoundException e) {
      out.error("ImageNotFound", e.getMessage());
      return ExitCodes.NOT_FOUND;
    } catch (ImageIntegrityException e) {
      out.error("ImageIntegrityFailed", e.getMessage());
      return ExitCodes.INTEGRITY;
    } catch (IllegalArgumentException e) {
      out.error("InvalidRequest", e.getMessage());
      return ExitCodes.USAGE;
    } catch (Exception e) {
      out.error("Internal", String.valueOf(e));
      return ExitCodes.FAILED;
    }
  }
}
