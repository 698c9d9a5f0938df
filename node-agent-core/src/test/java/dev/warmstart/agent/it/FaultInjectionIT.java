package dev.warmstart.agent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.warmstart.agent.checkpoint.CheckpointCommand;
import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.core.Progress;
import dev.warmstart.agent.operation.OperationJournal;
import dev.warmstart.agent.operation.OperationService;
import dev.warmstart.agent.operation.WorkerPools;
import dev.warmstart.agent.proc.Procfs;
import dev.warmstart.agent.restore.RestoreResult;
import dev.warmstart.agent.rootfs.LayerSettings;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.OperationState;
import dev.warmstart.api.agent.OperationStatus;
import dev.warmstart.api.agent.ProcessTarget;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults injected into real CRIU runs (our CRIU build, the CUDA plugin with the fake driver of
 * native-plugin/test, since CI has no GPU): CRIU stopped at a timeout while the tree is frozen with
 * its TCP connection in repair mode, CRIU stopped in the middle of a driver call, the agent killed
 * mid-dump, CRIU killed mid-restore. Each test checks the guarantee of docs/guarantees.md it names.
 */
class FaultInjectionIT {
  private static final Duration T = Duration.ofMinutes(2);
  @TempDir Path dir;
  @RegisterExtension final WorkerPools pools = new WorkerPools();

  /**
   * A CRIU configuration whose post-dump action script signals that the tree is frozen and fully
   * dumped (TCP connections in repair mode, network locked), then holds CRIU there for a while: a
   * deterministic point to stop or kill CRIU at.
   */
  private Path slowPostDumpConfig(Path marker, int seconds) throws Exception {
    Path script = dir.resolve("slow-post-dump.sh");
    Files.writeString(
        script,
        "#!/bin/sh\n"
            + "[ \"$CRTOOLS_SCRIPT_ACTION\" = post-dump ] || exit 0\n"
            + "touch "
            + marker
            + "\nsleep "
            + seconds
            + "\nexit 0\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    Path conf = dir.resolve("criu.conf");
    Files.writeString(conf, "network-lock nftables\naction-script " + script + "\n");
    return conf;
  }

  private AgentComponents agent(Path store, Map<String, String> env) throws Exception {
    return AgentComponents.create(
        AgentComponents.Settings.builder(store, TestEnv.criu(), "n1").criuEnvironment(env).build(),
        Clock.systemUTC());
  }

  /**
   * An established connection the workload's HTTP server has accepted and then blocks reading: the
   * request line is sent, the headers' end is not.
   */
  private static Socket idleConnection(Workload w) throws Exception {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), w.port);
    s.setSoTimeout(15_000);
    s.getOutputStream().write("GET / HTTP/1.0\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    for (int i = 0; i < 250 && sockets(w.pid()) < 2; i++) {
      Thread.sleep(20);
    }
    assertThat(sockets(w.pid())).as("listener and the accepted connection").isEqualTo(2);
    return s;
  }

  private static long sockets(int pid) throws Exception {
    try (Stream<Path> fds = Files.list(Path.of("/proc", Integer.toString(pid), "fd"))) {
      return fds.filter(
              f -> {
                try {
                  return Files.readSymbolicLink(f).toString().startsWith("socket:");
                } catch (java.io.IOException e) {
                  return false;
                }
              })
          .count();
    }
  }

  /** The workload answers a request on that same connection: its recv works. */
  private static String requestOn(Socket s) throws Exception {
    OutputStream out = s.getOutputStream();
    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))
        .readLine();
  }

  private static boolean stopped(int pid) throws Exception {
    char state = new Procfs().state(pid);
    return state == 'T' || state == 't';
  }

  private static void awaitFile(Path f, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!Files.exists(f)) {
      if (System.nanoTime() > end) {
        throw new AssertionError(f + " did not appear within " + timeout);
      }
      Thread.sleep(20);
    }
  }

  private static long stagingEntries(Path store) throws Exception {
    try (Stream<Path> s = Files.list(store.resolve(".staging"))) {
      return s.count();
    }
  }

  /** G1: a dump stopped at its timeout leaves the tree running and its TCP connections usable. */
  @Test
  void dumpStoppedAtItsTimeoutLeavesTheConnectionUsableAndTheTreeRunning() throws Exception {
    Path marker = dir.resolve("frozen");
    AgentComponents agent =
        agent(
            dir.resolve("store"),
            Map.of("CRIU_CONFIG_FILE", slowPostDumpConfig(marker, 20).toString()));
    try (Workload w = Workload.tree(4)) {
      long last = w.state(T).get("last").asLong();
      try (Socket conn = idleConnection(w)) {
        Throwable failure =
            catchThrowable(
                () ->
                    agent
                        .checkpoints()
                        .checkpoint(
                            CheckpointCommand.of(
                                    ProcessTarget.ofPid(w.pid()), "app", Duration.ofSeconds(3))
                                .leaveRunning(true)
                                .build(),
                            Progress.NONE));
        assertThat(Files.exists(marker)).as("CRIU had frozen and dumped the tree").isTrue();
        assertThat(requestOn(conn))
            .as("recv and send work on the connection CRIU had in repair mode")
            .startsWith("HTTP/1.0 200");
        assertThat(failure)
            .isInstanceOfSatisfying(
                OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.Timeout))
            .hasMessageContaining("did not finish within PT3S")
            .hasMessageContaining("undid the dump")
            .hasMessageContaining("the workload runs as before");
      }
      assertThat(stopped(w.pid())).as("tree running").isFalse();
      assertThat(w.state(T).get("last").asLong()).as("child still counting").isGreaterThan(last);
      assertThat(agent.store().list()).isEmpty();
      assertThat(stagingEntries(dir.resolve("store"))).as("no partial image").isZero();
    }
  }

  /**
   * G1, when CRIU does not stop: a CRIU that does not end within the grace period after SIGTERM
   * (here: frozen by the test) is killed, and the agent itself takes the connection out of TCP
   * repair mode and resumes the tree. (No network lock here: the agent cannot remove CRIU's
   * nftables table, see docs/guarantees.md.)
   */
  @Test
  void aCriuThatDoesNotStopIsKilledAndTheAgentPutsTheConnectionBack() throws Exception {
    Path marker = dir.resolve("frozen");
    slowPostDumpConfig(marker, 30);
    Path conf = dir.resolve("criu.conf");
    Files.writeString(
        conf, Files.readString(conf).replace("network-lock nftables", "network-lock skip"));
    AgentComponents agent =
        AgentComponents.create(
            AgentComponents.Settings.builder(dir.resolve("store"), TestEnv.criu(), "n1")
                .criuEnvironment(Map.of("CRIU_CONFIG_FILE", conf.toString()))
                .writableLayer(LayerSettings.DEFAULT)
                .criuStopGrace(Duration.ofSeconds(1))
                .build(),
            Clock.systemUTC());
    try (Workload w = Workload.tree(4)) {
      w.state(T);
      try (Socket conn = idleConnection(w)) {
        CompletableFuture<Throwable> dump =
            CompletableFuture.supplyAsync(
                () ->
                    catchThrowable(
                        () ->
                            agent
                                .checkpoints()
                                .checkpoint(
                                    CheckpointCommand.of(
                                            ProcessTarget.ofPid(w.pid()),
                                            "app",
                                            Duration.ofSeconds(4))
                                        .leaveRunning(true)
                                        .build(),
                                    Progress.NONE)));
        awaitFile(marker, Duration.ofSeconds(60));
        ProcessHandle criu = awaitCriu("dump", Duration.ofSeconds(10));
        dev.warmstart.agent.proc.Signals.send(
            (int) criu.pid(), dev.warmstart.agent.proc.Signals.SIGSTOP); // deaf to SIGTERM now
        Throwable failure = dump.get(2, TimeUnit.MINUTES);
        assertThat(failure)
            .isInstanceOfSatisfying(
                OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.Timeout))
            .hasMessageContaining(
                "was killed (first took 1 TCP socket(s) of the tree out of repair");
        assertThat(requestOn(conn)).startsWith("HTTP/1.0 200");
      }
      assertThat(stopped(w.pid())).isFalse();
    }
  }

  /**
   * G2: CRIU is never stopped in the middle of a driver call; the CUDA processes of a dump stopped
   * at its timeout are unlocked, their GPU state back (fake driver: RUNNING).
   */
  @Test
  void dumpStoppedDuringADriverCallLeavesEveryCudaProcessRunning() throws Exception {
    Path build = TestEnv.repo().resolve("native-plugin/build");
    assumeTrue(Files.exists(build.resolve("warmstart_cuda_plugin.so")), "native plugin not built");
    Path state = Files.createDirectories(dir.resolve("cuda-state"));
    Map<String, String> env = new HashMap<>();
    env.put("WARMSTART_LIBCUDA", build.resolve("fake/libcuda.so.1").toString());
    env.put("FAKE_CUDA_STATE", state.toString());
    env.put("FAKE_CUDA_DELAY_MS", "4000"); // each checkpoint and restore call takes 4 s
    AgentComponents agent =
        AgentComponents.create(
            AgentComponents.Settings.builder(dir.resolve("store"), TestEnv.criu(), "n1")
                .pluginDir(Optional.of(build))
                .criuEnvironment(env)
                .build(),
            Clock.systemUTC());
    Path work = Files.createDirectories(dir.resolve("app"));
    Process app =
        new ProcessBuilder(
                "setsid", build.resolve("fake_cuda_app").toString(), work.toString(), "2")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("app.log").toFile())
            .start();
    try {
      for (int i = 0; i < 200 && Files.list(work).count() < 2; i++) {
        Thread.sleep(20);
      }
      List<Integer> tree = new Procfs().tree((int) app.pid());
      assertThat(tree).hasSize(2);
      Throwable failure =
          catchThrowable(
              () ->
                  agent
                      .checkpoints()
                      .checkpoint(
                          CheckpointCommand.of(
                                  ProcessTarget.ofPid((int) app.pid()),
                                  "cuda",
                                  Duration.ofSeconds(1))
                              .leaveRunning(true)
                              .build(),
                          Progress.NONE));
      for (int pid : tree) {
        assertThat(Files.readString(state.resolve(Integer.toString(pid))).trim())
            .as("fake driver state of %d (0 = RUNNING)", pid)
            .isEqualTo("0");
        assertThat(stopped(pid)).isFalse();
      }
      Path counter = work.resolve("count-" + app.pid());
      String before = Files.readString(counter);
      Thread.sleep(300);
      assertThat(Files.readString(counter)).as("the process counts on").isNotEqualTo(before);
      assertThat(failure)
          .isInstanceOfSatisfying(
              OperationFailure.class, f -> assertThat(f.reason()).isEqualTo(ErrorReason.Timeout))
          .hasMessageContaining("after waiting for a GPU driver call to return");
    } finally {
      app.descendants().forEach(ProcessHandle::destroyForcibly);
      app.destroyForcibly().waitFor();
    }
  }

  /**
   * G3: an agent killed during a dump does not leave CRIU to finish it (with leaveRunning=false
   * that would end the workload); the restarted agent says what is true: no image, the workload
   * running.
   */
  @Test
  void agentKilledDuringADumpStopsCriuAndRecoveryReportsTheTruth() throws Exception {
    Path marker = dir.resolve("frozen");
    Path conf = slowPostDumpConfig(marker, 8);
    Path store = dir.resolve("store");
    Path journal = dir.resolve("journal");
    try (Workload w = Workload.tree(4)) {
      w.state(T);
      String java = ProcessHandle.current().info().command().orElse("java");
      Process agentProcess =
          new ProcessBuilder(
                  java,
                  "-cp",
                  System.getProperty("java.class.path"),
                  AgentProcess.class.getName(),
                  store.toString(),
                  journal.toString(),
                  TestEnv.criu().toString(),
                  conf.toString(),
                  Integer.toString(w.pid()),
                  "app",
                  "false")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("agent.log").toFile())
              .start();
      try {
        awaitFile(marker, Duration.ofSeconds(60));
      } catch (AssertionError e) {
        throw new AssertionError(Files.readString(dir.resolve("agent.log")), e);
      }
      agentProcess.destroyForcibly().waitFor(); // SIGKILL: the agent dies mid-dump
      Thread.sleep(10_000); // longer than CRIU would still have taken to finish on its own

      assertThat(w.process.isAlive())
          .as("the workload lives: CRIU did not finish the dump (leaveRunning=false) on its own")
          .isTrue();
      OperationService restarted =
          OperationService.builder(
                  TestEnv.components(store), new OperationJournal(journal), pools.fixed(1))
              .nodeName("test-node")
              .start();
      OperationStatus s = restarted.list().get(0);
      assertThat(s.state()).isEqualTo(OperationState.FAILED);
      assertThat(s.error().reason()).isEqualTo(ErrorReason.Interrupted);
      assertThat(s.error().message())
          .contains("no image was kept")
          .contains("CRIU had not finished")
          .contains("the workload runs as before");
      assertThat(w.state(T).get("last").asLong()).isPositive();
      assertThat(stopped(w.pid())).isFalse();
      assertThat(TestEnv.components(store).store().list()).isEmpty();
      assertThat(stagingEntries(store)).as("partial image removed").isZero();
    }
  }

  /**
   * G3: a dump that CRIU completed before the agent died is committed by recovery, not thrown away
   * while the operation says "no image".
   */
  @Test
  void aCompleteStagedImageLeftByADeadAgentIsCommitted() throws Exception {
    Path store = dir.resolve("store");
    Path journal = dir.resolve("journal");
    OperationService first =
        OperationService.builder(
                TestEnv.components(store), new OperationJournal(journal), pools.fixed(1))
            .nodeName("test-node")
            .start();
    try (Workload w = Workload.tree(2)) {
      w.state(T);
      OperationStatus done =
          await(
              first,
              first
                  .submit(
                      dev.warmstart.api.agent.OperationRequest.checkpoint(
                          "k",
                          dev.warmstart.api.agent.CheckpointRequest.builder(
                                  ProcessTarget.ofPid(w.pid()), "app", 60)
                              .build()))
                  .id());
      assertThat(done.state()).as("%s", done.error()).isEqualTo(OperationState.SUCCEEDED);
      // Turn the committed image back into what a dead agent leaves: the staged dump with its
      // pending record beside it, the operation journaled RUNNING at step "store".
      AgentComponents a = TestEnv.components(store);
      StoredImage image = a.store().open("app");
      Path staged = store.resolve(".staging").resolve("app." + java.util.UUID.randomUUID());
      Files.move(store.resolve("app"), staged);
      Files.delete(staged.resolve("manifest.json"));
      com.fasterxml.jackson.databind.ObjectMapper json =
          new com.fasterxml.jackson.databind.ObjectMapper();
      Files.write(
          staged.resolveSibling(staged.getFileName() + ".pending"),
          json.writeValueAsBytes(
              new dev.warmstart.agent.store.PendingCheckpoint(
                  done.id(), "app", false, true, image.manifest())));
      OperationJournal j = new OperationJournal(journal);
      OperationJournal.Entry e = j.readAll().get(0);
      j.write(
          new OperationJournal.Entry(
              e.request(),
              new OperationStatus(
                  done.id(),
                  "k",
                  done.kind(),
                  OperationState.RUNNING,
                  "store",
                  done.submittedAt(),
                  null,
                  null,
                  null,
                  null,
                  null)));

      OperationService restarted =
          OperationService.builder(
                  TestEnv.components(store), new OperationJournal(journal), pools.fixed(1))
              .nodeName("test-node")
              .start();
      OperationStatus s = restarted.get(done.id()).orElseThrow();
      assertThat(s.state()).as("%s", s.error()).isEqualTo(OperationState.SUCCEEDED);
      StoredImage committed = TestEnv.components(store).store().open("app");
      assertThat(committed.manifest().files()).isEqualTo(image.manifest().files());
      assertThat(s.image().manifestDigest()).isEqualTo(committed.digest());
      assertThat(stagingEntries(store)).isZero();
    }
  }

  /**
   * G4: a restore whose CRIU is killed partway leaves no half-restored process holding the image's
   * PIDs: the retry restores instead of failing PidInUse.
   */
  @Test
  void restoreKilledPartwayLeavesNoProcessHoldingTheImagesPids() throws Exception {
    Path build = TestEnv.repo().resolve("native-plugin/build");
    assumeTrue(Files.exists(build.resolve("warmstart_cuda_plugin.so")), "native plugin not built");
    Path state = Files.createDirectories(dir.resolve("cuda-state"));
    Map<String, String> env = new HashMap<>();
    env.put("WARMSTART_LIBCUDA", build.resolve("fake/libcuda.so.1").toString());
    env.put("FAKE_CUDA_STATE", state.toString());
    Path work = Files.createDirectories(dir.resolve("app"));
    Process app =
        new ProcessBuilder(
                "setsid", build.resolve("fake_cuda_app").toString(), work.toString(), "2")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("app.log").toFile())
            .start();
    List<Integer> pids = new ArrayList<>();
    try {
      for (int i = 0; i < 200 && Files.list(work).count() < 2; i++) {
        Thread.sleep(20);
      }
      StoredImage image =
          plugin(env)
              .checkpoints()
              .checkpoint(
                  CheckpointCommand.of(ProcessTarget.ofPid((int) app.pid()), "cuda", T).build(),
                  Progress.NONE);
      app.waitFor();
      pids.addAll(image.manifest().source().processes());
      for (int p : pids) {
        Workload.awaitGone(p);
      }
      Map<String, String> slow = new HashMap<>(env);
      slow.put("FAKE_CUDA_DELAY_MS", "3000"); // the tree waits in CRIU's hands during the restore
      AgentComponents slowAgent = plugin(slow);
      CompletableFuture<RestoreResult> restore =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return slowAgent.restores().restore("cuda", Optional.empty(), T, Progress.NONE);
                } catch (OperationFailure f) {
                  throw new java.util.concurrent.CompletionException(f);
                }
              });
      ProcessHandle criu = awaitCriuRestore(Duration.ofSeconds(60));
      for (int i = 0;
          i < 200 && !pids.stream().allMatch(p -> ProcessHandle.of(p).isPresent());
          i++) {
        Thread.sleep(20);
      }
      assertThat(pids)
          .as("CRIU has created the tree")
          .allMatch(p -> ProcessHandle.of(p).isPresent());
      criu.destroyForcibly(); // CRIU dies partway (OOM killer, a node problem...)
      assertThatThrownBy(() -> restore.get(2, TimeUnit.MINUTES))
          .hasCauseInstanceOf(OperationFailure.class);
      for (int p : pids) {
        Workload.awaitGone(p);
        assertThat(ProcessHandle.of(p)).as("no half-restored process holds %d", p).isEmpty();
      }
      RestoreResult again =
          plugin(env).restores().restore("cuda", Optional.empty(), T, Progress.NONE);
      assertThat(again.pid()).isEqualTo(pids.get(0));
      Workload.kill(again.pid());
    } finally {
      app.destroyForcibly();
      for (int p : pids) {
        ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  private AgentComponents plugin(Map<String, String> env) throws Exception {
    return AgentComponents.create(
        AgentComponents.Settings.builder(dir.resolve("store"), TestEnv.criu(), "n1")
            .pluginDir(Optional.of(TestEnv.repo().resolve("native-plugin/build")))
            .criuEnvironment(env)
            .build(),
        Clock.systemUTC());
  }

  private static ProcessHandle awaitCriuRestore(Duration timeout) throws InterruptedException {
    return awaitCriu("restore", timeout);
  }

  /**
   * The CRIU this JVM started, once it serves {@code action}: a {@code criu swrk} names its request
   * in its process title ("dump --rpc -t PID", "restore --rpc").
   */
  private static ProcessHandle awaitCriu(String action, Duration timeout)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      Optional<ProcessHandle> criu =
          ProcessHandle.current()
              .descendants()
              .filter(h -> h.info().commandLine().orElse("").contains(action + " --rpc"))
              .findFirst();
      if (criu.isPresent()) {
        return criu.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no criu " + action + " started");
  }

  private static OperationStatus await(OperationService ops, String id)
      throws InterruptedException {
    for (int i = 0; i < 1200; i++) {
      OperationStatus s = ops.get(id).orElseThrow();
      if (s.state().isTerminal()) {
        return s;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("operation " + id + " did not finish: " + ops.get(id));
  }
}
