package dev.warmstart.agent.criu;

import dev.warmstart.agent.criu.rpc.Rpc.criu_cg_mode;
import dev.warmstart.agent.criu.rpc.Rpc.criu_opts;
import dev.warmstart.agent.criu.rpc.Rpc.criu_req;
import dev.warmstart.agent.criu.rpc.Rpc.criu_req_type;
import dev.warmstart.agent.criu.rpc.Rpc.inherit_fd;
import dev.warmstart.agent.criu.rpc.Rpc.join_namespace;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The RPC requests for our dumps and restores: what the criu CLI's options were, as messages. */
final class CriuRequests {
  static final String DUMP_LOG = "dump.log";
  static final String RESTORE_LOG = "restore.log";

  /** CRIU's log level 4 (debug): the CUDA plugin's driver-call marks need it (see CriuLog). */
  private static final int LOG_LEVEL = 4;

  private static final Pattern INHERIT_FD = Pattern.compile("fd\\[(\\d+)\\]:(.+)");

  private CriuRequests() {}

  /**
   * A dump of {@code spec.pid()}'s tree into {@code spec.imageDir()} (also CRIU's work directory:
   * its log goes there). {@code notify} asks CRIU to stop at each action-script point and wait for
   * the agent's answer, which the post-dump step needs.
   */
  static criu_req dump(DumpSpec spec) {
    criu_opts.Builder opts =
        criu_opts
            .newBuilder()
            .setImagesDirFd(-1)
            .setImagesDir(spec.imageDir().toString())
            .setPid(spec.pid())
            .setLogFile(DUMP_LOG)
            .setLogLevel(LOG_LEVEL)
            .setTcpEstablished(true)
            .setTimeout(spec.freezeTimeoutSeconds())
            .setLeaveRunning(spec.leaveRunning())
            .setNotifyScripts(spec.postDump().isPresent())
            .addAllExternal(spec.externals());
    return criu_req.newBuilder().setType(criu_req_type.DUMP).setOpts(opts).build();
  }

  /**
   * A restore from {@code spec.imageDir()}. CRIU's work directory (log, stats) is not an RPC option
   * but a path CRIU reads through /proc of the caller, which a CRIU in the target's PID namespace
   * cannot see: the launcher passes it as {@code -W} (see CriuRunner).
   */
  static criu_req restore(RestoreSpec spec) {
    criu_opts.Builder opts =
        criu_opts
            .newBuilder()
            .setImagesDirFd(-1)
            .setImagesDir(spec.imageDir().toString())
            .setLogFile(RESTORE_LOG)
            .setLogLevel(LOG_LEVEL)
            .setTcpEstablished(true)
            .addAllExternal(spec.externals());
    spec.root()
        .ifPresent(
            r ->
                // A kubelet container's root is a slave of the node's overlay mount (runc makes /
                // rslave). CRIU's default mount engine (v2) then copies that sharing from the root
                // with MOVE_MOUNT_SET_GROUP, which fails with EINVAL when CRIU runs in the agent
                // pod's mount namespace; the v1 engine restores the tree onto the root without it.
                opts.setRoot(r.toString()).setMntnsCompatMode(true));
    if (!spec.cgroupProcsFiles().isEmpty()) {
      // CRIU starts inside the target's cgroups (the launcher joins them): the tree inherits them.
      opts.setManageCgroupsMode(criu_cg_mode.IGNORE);
    }
    spec.inheritFds().forEach(f -> opts.addInheritFd(inheritFd(f)));
    spec.joinNamespaces().forEach(n -> opts.addJoinNs(joinNamespace(n)));
    return criu_req.newBuilder().setType(criu_req_type.RESTORE).setOpts(opts).build();
  }

  static criu_req version() {
    return criu_req.newBuilder().setType(criu_req_type.VERSION).build();
  }

  /** The answer to a NOTIFY: whether the agent's step at that point succeeded. */
  static criu_req notifyAnswer(boolean success) {
    return criu_req.newBuilder().setType(criu_req_type.NOTIFY).setNotifySuccess(success).build();
  }

  /** {@code fd[N]:key} (the CLI's --inherit-fd) as the RPC's {key, fd}. */
  static inherit_fd inheritFd(String cli) {
    Matcher m = INHERIT_FD.matcher(cli);
    if (!m.matches()) {
      throw new IllegalArgumentException("not an inherited fd (fd[N]:key): " + cli);
    }
    return inherit_fd.newBuilder().setFd(Integer.parseInt(m.group(1))).setKey(m.group(2)).build();
  }

  /** {@code ns:file[,extra]} (the CLI's --join-ns) as the RPC's {ns, ns_file, extra_opt}. */
  static join_namespace joinNamespace(String cli) {
    int colon = cli.indexOf(':');
    if (colon <= 0 || colon == cli.length() - 1) {
      throw new IllegalArgumentException("not a namespace to join (ns:file): " + cli);
    }
    join_namespace.Builder ns = join_namespace.newBuilder().setNs(cli.substring(0, colon));
    String file = cli.substring(colon + 1);
    int comma = file.indexOf(',');
    if (comma >= 0) {
      ns.setExtraOpt(file.substring(comma + 1));
      file = file.substring(0, comma);
    }
    return ns.setNsFile(file).build();
  }
}
