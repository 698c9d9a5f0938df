package dev.warmstart.agent.api;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.agent.store.RedactedCommands;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * The API's JSON. Reading: an operation is a few levels deep and a few KiB, so a 5000-deep or huge
 * document is refused while it is parsed (a 400), before it costs memory. Writing: a manifest's
 * command line leaves the agent redacted, also for images taken before the agent redacted it.
 */
@Singleton
public class ApiJson implements ObjectMapperCustomizer {
  static final int MAX_DEPTH = 32;
  static final int MAX_STRING = 64 * 1024;

  @Override
  public void customize(ObjectMapper mapper) {
    mapper
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(MAX_DEPTH)
                .maxStringLength(MAX_STRING)
                .maxNumberLength(32)
                .maxDocumentLength(1024 * 1024)
                .build());
    // A field this protocol version does not have is a 400 naming it, not silently dropped: a
    // client of another version (one that predates the version header, too) must not have part of
    // its request ignored, e.g. a standby restored to the end.
    mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    RedactedCommands.redactCommands(mapper);
  }
}
