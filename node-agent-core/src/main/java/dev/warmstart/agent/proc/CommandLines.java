package dev.warmstart.agent.proc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A workload's command line as the agent lets it out (manifest, image list, CLI, error messages
 * that reach CR status and Events): the arguments, with the value of every argument that looks like
 * a secret replaced by {@value #REDACTED}. Secret-looking: an option or {@code KEY=VALUE} whose
 * name holds password, passwd, pwd, secret, token, credential, auth, cookie, session or ends in key
 * (api-key, access_key, ...), given as {@code --name=value}, {@code --name value} or {@code
 * NAME=value}; and the password of a URL ({@code scheme://user:password@host}). A heuristic: a
 * secret passed positionally or under an unrelated name stays visible, so secrets belong in files
 * or the environment, not in argv.
 */
public final class CommandLines {
  public static final String REDACTED = "<redacted>";

  private static final Pattern OPTION = Pattern.compile("^(-{1,2})([A-Za-z0-9][A-Za-z0-9_.-]*)$");
  private static final Pattern ASSIGNMENT =
      Pattern.compile("^(-{0,2})([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", Pattern.DOTALL);
  private static final Pattern URL_PASSWORD =
      Pattern.compile("([A-Za-z][A-Za-z0-9+.-]*://[^/:@\\s]*):[^/@\\s]+@");
  private static final Pattern SECRET_NAME =
      Pattern.compile(
          "(password|passwd|pwd|secret|token|credential|auth|cookie|session|key$)",
          Pattern.CASE_INSENSITIVE);

  private CommandLines() {}

  /** The arguments redacted and joined by spaces. */
  public static String redact(List<String> argv) {
    List<String> out = new ArrayList<>(argv.size());
    boolean nextIsSecret = false;
    for (String arg : argv) {
      if (nextIsSecret && !arg.startsWith("-")) {
        out.add(REDACTED);
        nextIsSecret = false;
        continue;
      }
      nextIsSecret = false;
      Matcher a = ASSIGNMENT.matcher(arg);
      Matcher o = OPTION.matcher(arg);
      if (a.matches() && secret(a.group(2))) {
        out.add(a.group(1) + a.group(2) + "=" + REDACTED);
      } else if (o.matches() && secret(o.group(2))) {
        out.add(arg);
        nextIsSecret = true;
      } else {
        out.add(URL_PASSWORD.matcher(arg).replaceAll("$1:" + REDACTED + "@"));
      }
    }
    return String.join(" ", out);
  }

  /**
   * A command line already joined by spaces (as older manifests kept it), redacted the same way;
   * redacting twice changes nothing.
   */
  public static String redact(String joined) {
    if (joined == null || joined.isBlank()) {
      return joined;
    }
    return redact(Arrays.asList(joined.trim().split(" +")));
  }

  private static boolean secret(String name) {
    String n = name.replaceAll("[-_.]", "");
    return SECRET_NAME.matcher(n).find();
  }
}
