package dev.warmstart.agent.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A timeout in seconds, 1 to 86400 as the agent accepts: picocli answers anything else with 2. */
final class Seconds implements ITypeConverter<Integer> {
  static final int MAX = 86400;

  @Override
  public Integer convert(String value) {
    int s;
    try {
      s = Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not a number of seconds");
    }
    if (s < 1 || s > MAX) {
      throw new TypeConversionException(
          "'" + value + "' is out of range: give 1 to " + MAX + " seconds");
    }
    return s;
  }
}
