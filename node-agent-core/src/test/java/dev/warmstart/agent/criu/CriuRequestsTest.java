package dev.warmstart.agent.criu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warmstart.agent.criu.RestoreSpec.RedirectedFd;
import dev.warmstart.agent.criu.rpc.Rpc.criu_cg_mode;
import dev.warmstart.agent.criu.rpc.Rpc.criu_opts;
import dev.warmstart.agent.criu.rpc.Rpc.criu_req;
import dev.warmstart.agent.criu.rpc.Rpc.criu_req_type;
import dev.warmstart.api.agent.RestoreStage;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Our dumps and restores as CRIU RPC messages: each option the CLI had, as its RPC field. */
class CriuRequestsTest {
  @Test
  void aDumpCarriesTheTreeTheImageDirAndItsOptions() throws Exception {
    DumpSpec spec =
        new DumpSpec(
            42,
            Path.of("/store/.staging/a"),
            true,
            List.of("net[4026531840]:extNet", "mnt[/sys/fs/cgroup/cpu]:cgcpu"),
            7,
            Optional.of(() -> {}));
    criu_req req = criu_req.parseFrom(CriuRequests.dump(spec).toByteArray());
    assertThat(req.getType()).isEqualTo(criu_req_type.DUMP);
    criu_opts o = req.getOpts();
    assertThat(o.getPid()).isEqualTo(42);
    assertThat(o.getImagesDirFd()).as("the path, not an fd, names the images").isEqualTo(-1);
    assertThat(o.getImagesDir()).isEqualTo("/store/.staging/a");
    assertThat(o.getLogFile()).isEqualTo("dump.log");
    assertThat(o.getLogLevel()).isEqualTo(4);
    assertThat(o.getTcpEstablished()).isTrue();
    assertThat(o.getTimeout()).isEqualTo(7);
    assertThat(o.getLeaveRunning()).isTrue();
    assertThat(o.getNotifyScripts()).as("post-dump step: CRIU must notify").isTrue();
    assertThat(o.getExternalList())
        .containsExactly("net[4026531840]:extNet", "mnt[/sys/fs/cgroup/cpu]:cgcpu");
    assertThat(o.hasRoot()).isFalse();
  }

  @Test
  void aDumpWithoutAPostDumpStepIsNotNotified() {
    criu_opts o = CriuRequests.dump(new DumpSpec(1, Path.of("/i"), false, List.of(), 5)).getOpts();
    assertThat(o.getNotifyScripts()).isFalse();
    assertThat(o.getLeaveRunning()).isFalse();
  }

  @Test
  void aRestoreIntoAContainerCarriesRootNamespacesFdsAndCgroupMode() {
    RestoreSpec spec =
        new RestoreSpec(
            Path.of("/img"),
            Path.of("/work"),
            Path.of("/work/restore.pid"),
            Optional.of(Path.of("/run/rootfs")),
            List.of("fd[3]:pipe:[1234]", "fd[5]:extPid"),
            List.of(new RedirectedFd(3, Path.of("/proc/9/fd/1"), true)),
            List.of("ipc:/proc/9/ns/ipc", "uts:/proc/9/ns/uts"),
            List.of("mnt[cgcpu]:/sys/fs/cgroup/cpu/pod"),
            List.of(Path.of("/sys/fs/cgroup/cpu/pod/cgroup.procs")),
            Optional.empty(),
            Optional.empty(),
            RestoreStage.RUNNING);
    criu_req req = CriuRequests.restore(spec);
    assertThat(req.getType()).isEqualTo(criu_req_type.RESTORE);
    criu_opts o = req.getOpts();
    assertThat(o.getImagesDir()).isEqualTo("/img");
    assertThat(o.getLogFile()).isEqualTo("restore.log");
    assertThat(o.getRoot()).isEqualTo("/run/rootfs");
    assertThat(o.getMntnsCompatMode()).isTrue();
    assertThat(o.getManageCgroupsMode()).isEqualTo(criu_cg_mode.IGNORE);
    assertThat(o.getInheritFdList())
        .extracting(f -> f.getFd() + "=" + f.getKey())
        .containsExactly("3=pipe:[1234]", "5=extPid");
    assertThat(o.getJoinNsList())
        .extracting(n -> n.getNs() + "=" + n.getNsFile())
        .containsExactly("ipc=/proc/9/ns/ipc", "uts=/proc/9/ns/uts");
    assertThat(o.getExternalList()).containsExactly("mnt[cgcpu]:/sys/fs/cgroup/cpu/pod");
    assertThat(o.getTcpEstablished()).isTrue();
  }

  @Test
  void aHostRestoreHasNoRootAndManagesNoCgroupMode() {
    criu_opts o = CriuRequests.restore(RestoreSpec.onHost(Path.of("/i"), Path.of("/w"))).getOpts();
    assertThat(o.hasRoot()).isFalse();
    assertThat(o.hasMntnsCompatMode()).isFalse();
    assertThat(o.hasManageCgroupsMode()).isFalse();
    assertThat(o.getInheritFdCount()).isZero();
  }

  @Test
  void cliSpellingsParseOrAreRefused() {
    assertThat(CriuRequests.joinNamespace("net:/proc/1/ns/net,extra").getExtraOpt())
        .isEqualTo("extra");
    assertThatThrownBy(() -> CriuRequests.inheritFd("3:pipe"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CriuRequests.joinNamespace("ipc"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aNotifyAnswerSaysWhetherTheStepSucceeded() {
    assertThat(CriuRequests.notifyAnswer(false).getNotifySuccess()).isFalse();
    assertThat(CriuRequests.notifyAnswer(true).getType()).isEqualTo(criu_req_type.NOTIFY);
  }
}
