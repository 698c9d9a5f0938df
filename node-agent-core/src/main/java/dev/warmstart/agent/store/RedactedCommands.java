package dev.warmstart.agent.store;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.warmstart.agent.proc.CommandLines;
import java.io.IOException;

/**
 * A manifest's command line leaves the agent redacted ({@link CommandLines}), also for images taken
 * before the agent redacted it: the service's API and the CLI write manifests through this.
 */
public final class RedactedCommands {
  private RedactedCommands() {}

  /** Makes {@code mapper} write every manifest's command line redacted. */
  public static ObjectMapper redactCommands(ObjectMapper mapper) {
    return mapper.addMixIn(Manifest.Source.class, RedactedSource.class);
  }

  abstract static class RedactedSource {
    @JsonSerialize(using = RedactedCommand.class)
    abstract String command();
  }

  static final class RedactedCommand extends StdSerializer<String> {
    RedactedCommand() {
      super(String.class);
    }

    @Override
    public void serialize(String value, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      gen.writeString(CommandLines.redact(value));
    }
  }
}
