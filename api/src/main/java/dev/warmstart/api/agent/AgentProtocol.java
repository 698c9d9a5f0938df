package dev.warmstart.api.agent;

/**
 * The version of the agent protocol (the records of this package), independent of the CRD's API
 * version: the two change for different reasons and at different speeds. A client names the version
 * it speaks in the {@value #HEADER} header; an agent that speaks another answers 400 with reason
 * {@value #MISMATCH_REASON} and a message naming both, before it reads the body. The agent names
 * its own version in the same header of every answer. Paths carry the version too ({@value
 * #PATH_PREFIX}).
 */
public final class AgentProtocol {
  /** The protocol version this build speaks. */
  public static final int VERSION = 1;

  /** Request and response header holding a protocol version. */
  public static final String HEADER = "Warmstart-Agent-Protocol";

  /** The paths of this protocol version start with it. */
  public static final String PATH_PREFIX = "/v" + VERSION;

  /** The error reason of a request in another protocol version. */
  public static final String MISMATCH_REASON = "ProtocolVersionMismatch";

  private AgentProtocol() {}
}
