package dev.warmstart.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.warmstart.api.v1alpha1.GpuCheckpoint;
import dev.warmstart.api.v1alpha1.GpuCheckpointSchedule;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleSpec;
import dev.warmstart.api.v1alpha1.GpuCheckpointScheduleStatus;
import dev.warmstart.api.v1alpha1.GpuCheckpointSpec;
import dev.warmstart.api.v1alpha1.GpuCheckpointStatus;
import dev.warmstart.api.v1alpha1.GpuRestore;
import dev.warmstart.api.v1alpha1.GpuRestoreSpec;
import dev.warmstart.api.v1alpha1.GpuRestoreStatus;
import dev.warmstart.api.v1alpha1.GpuStandbyPool;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolSpec;
import dev.warmstart.api.v1alpha1.GpuStandbyPoolStatus;
import dev.warmstart.operator.event.EventRecorder;
import dev.warmstart.operator.reconciler.Decision;
import dev.warmstart.operator.reconciler.StatusWriter;
import dev.warmstart.operator.reconciler.checkpoint.CheckpointWorkflow;
import dev.warmstart.operator.reconciler.checkpoint.StoragePods;
import dev.warmstart.operator.reconciler.pool.PoolWorkflow;
import dev.warmstart.operator.reconciler.restore.PlaceholderPods;
import dev.warmstart.operator.reconciler.restore.RestoreWorkflow;
import dev.warmstart.operator.reconciler.schedule.ScheduleWorkflow;
import dev.warmstart.operator.status.CheckpointStatusFactory;
import dev.warmstart.operator.status.PoolStatusFactory;
import dev.warmstart.operator.status.RestoreStatusFactory;
import dev.warmstart.operator.status.ScheduleStatusFactory;
import dev.warmstart.operator.support.Cluster;
import dev.warmstart.operator.support.FakeAgents;
import dev.warmstart.operator.support.LiveCheckpointWorld;
import dev.warmstart.operator.support.LiveRestoreWorld;
import dev.warmstart.operator.support.MutableClock;
import dev.warmstart.operator.support.Reconcile;
import dev.warmstart.operator.support.TestConfig;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every spec field of every CRD (as generated into crds/) does something: each has an entry in
 * {@link #PROOFS}, and a field added without one fails {@link #everySpecFieldHasAProof}. An entry
 * either flips the field on a working baseline and shows that what the operator does (the requests
 * it sends the node agent, the pods and custom resources it creates, the status it writes) changes,
 * or names the dedicated test that proves a field whose effect needs a longer story (a second run,
 * a late start). Fields the operator only passes on (hooks, leaveRunning, timeouts, gpuRemap) are
 * proven here up to the agent request; the node agent's tests prove what it does with them.
 */
@EnableKubernetesMockClient(crud = true)
class SpecFieldsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");

  /** How one field is shown to have an effect. */
  sealed interface Proof {}

  /**
   * Set the field to {@code value} on the kind's baseline (removing the field {@code instead} of,
   * where the two exclude each other): the outcome must differ.
   */
  record Flip(Object value, String instead) implements Proof {
    Flip(Object value) {
      this(value, null);
    }
  }

  /**
   * A value that means what leaving the field out means (a default spelled out): setting it must
   * change nothing, which is also checked.
   */
  record SameAsDefault(Object value, String why) implements Proof {}

  /** A dedicated test, {@code <module>/<path to test source>#<method>}. */
  record Covered(String test) implements Proof {}

  private static final String SCHEDULE_TESTS =
      "operator/src/test/java/dev/warmstart/operator/reconciler/schedule/";

  /** CRD file name → spec field path (arrays as []) → proof. */
  static final Map<String, Map<String, Proof>> PROOFS =
      Map.of(
          "gpucheckpoints.warmstart.dev-v1.yaml",
          Map.ofEntries(
              Map.entry("podName", new Flip("llm-1")),
              Map.entry("containerName", new Flip("sidecar")),
              Map.entry("leaveRunning", new Flip(false)),
              Map.entry("timeoutSeconds", new Flip(42)),
              Map.entry("preCheckpointHook", new Flip(null)),
              Map.entry("preCheckpointHook.method", new Flip("GET")),
              Map.entry("preCheckpointHook.path", new Flip("/other")),
              Map.entry("preCheckpointHook.port", new Flip(9000)),
              Map.entry("preCheckpointHook.timeoutSeconds", new Flip(7)),
              Map.entry("storage", new Flip(Map.of("persistentVolumeClaim", claim()))),
              Map.entry(
                  "storage.hostPath",
                  new SameAsDefault(
                      Map.of(), "node-local storage is the default and has no settings")),
              Map.entry("storage.persistentVolumeClaim", new Flip(claim())),
              Map.entry("storage.persistentVolumeClaim.claimName", new Flip("images")),
              Map.entry("storage.persistentVolumeClaim.subPath", new Flip("shared/llm"))),
          "gpurestores.warmstart.dev-v1.yaml",
          Map.ofEntries(
              Map.entry("checkpointName", new Flip("missing")),
              Map.entry("podName", new Flip("custom-pod")),
              Map.entry("nodeName", new Flip("gpu-2")),
              Map.entry("nodeSelector", new Flip(Map.of("zone", "a"))),
              Map.entry("gpuRemap", new Flip("SameGpu")),
              Map.entry("standby", new Flip("Warm")),
              Map.entry("poolName", new Flip("no-such-pool")),
              Map.entry("postRestoreHook", new Flip(null)),
              Map.entry("postRestoreHook.method", new Flip("GET")),
              Map.entry("postRestoreHook.path", new Flip("/other")),
              Map.entry("postRestoreHook.port", new Flip(9000)),
              Map.entry("postRestoreHook.timeoutSeconds", new Flip(7))),
          "gpustandbypools.warmstart.dev-v1.yaml",
          Map.ofEntries(
              Map.entry("checkpointName", new Flip("missing")),
              Map.entry("replicas", new Flip(2)),
              Map.entry("tier", new Flip("Hot")),
              Map.entry("nodeSelector", new Flip(Map.of("zone", "a")))),
          "gpucheckpointschedules.warmstart.dev-v1.yaml",
          Map.ofEntries(
              Map.entry("schedule", new Flip("0 0 1 1 *")),
              Map.entry("timeZone", new Flip("Asia/Kolkata")),
              Map.entry("suspend", new Flip(true)),
              Map.entry(
                  "concurrencyPolicy",
                  new Covered(
                      SCHEDULE_TESTS
                          + "ScheduleWorkflowTest.java#forbidSkipsARunWhileThePreviousCheckpointStillRuns")),
              Map.entry(
                  "startingDeadlineSeconds",
                  new Covered(
                      SCHEDULE_TESTS
                          + "ScheduleDeciderTest.java#aRunLaterThanTheStartingDeadlineIsSkipped")),
              Map.entry(
                  "successfulCheckpointsHistoryLimit",
                  new Covered(
                      SCHEDULE_TESTS
                          + "RetentionTest.java#keepsTheNewestNSucceededAndMFailedDeletingOldestFirst")),
              Map.entry(
                  "failedCheckpointsHistoryLimit",
                  new Covered(
                      SCHEDULE_TESTS
                          + "RetentionTest.java#keepsTheNewestNSucceededAndMFailedDeletingOldestFirst")),
              Map.entry("checkpointTemplate", new Flip(Map.of("podName", "llm-1"))),
              Map.entry("checkpointTemplate.podName", new Flip("llm-1")),
              Map.entry(
                  "checkpointTemplate.podSelector",
                  new Flip(Map.of("replica", "b"), "checkpointTemplate.podName")),
              Map.entry("checkpointTemplate.containerName", new Flip("sidecar")),
              Map.entry("checkpointTemplate.leaveRunning", new Flip(false)),
              Map.entry("checkpointTemplate.timeoutSeconds", new Flip(42)),
              Map.entry("checkpointTemplate.preCheckpointHook", new Flip(null)),
              Map.entry("checkpointTemplate.preCheckpointHook.method", new Flip("GET")),
              Map.entry("checkpointTemplate.preCheckpointHook.path", new Flip("/other")),
              Map.entry("checkpointTemplate.preCheckpointHook.port", new Flip(9000)),
              Map.entry("checkpointTemplate.preCheckpointHook.timeoutSeconds", new Flip(7)),
              Map.entry(
                  "checkpointTemplate.storage", new Flip(Map.of("persistentVolumeClaim", claim()))),
              Map.entry(
                  "checkpointTemplate.storage.hostPath",
                  new SameAsDefault(
                      Map.of(), "node-local storage is the default and has no settings")),
              Map.entry("checkpointTemplate.storage.persistentVolumeClaim", new Flip(claim())),
              Map.entry(
                  "checkpointTemplate.storage.persistentVolumeClaim.claimName", new Flip("images")),
              Map.entry(
                  "checkpointTemplate.storage.persistentVolumeClaim.subPath",
                  new Flip("shared/llm"))));

  private static Map<String, Object> claim() {
    return Map.of("claimName", "checkpoints");
  }

  private static final String HOOK =
      "{\"method\":\"POST\",\"path\":\"/prepare\",\"port\":8000,\"timeoutSeconds\":30}";

  /** Baselines: specs that work, with every optional object present so sub-fields can flip. */
  private static final Map<String, String> BASELINES =
      Map.of(
          "gpucheckpoints.warmstart.dev-v1.yaml",
          "{\"podName\":\"llm-0\",\"preCheckpointHook\":" + HOOK + "}",
          "gpurestores.warmstart.dev-v1.yaml",
          "{\"checkpointName\":\"ck\",\"postRestoreHook\":" + HOOK + "}",
          "gpustandbypools.warmstart.dev-v1.yaml",
          "{\"checkpointName\":\"ck\",\"replicas\":1,\"tier\":\"Warm\"}",
          "gpucheckpointschedules.warmstart.dev-v1.yaml",
          "{\"schedule\":\"30 * * * *\",\"checkpointTemplate\":{\"podName\":\"llm-0\","
              + "\"preCheckpointHook\":"
              + HOOK
              + "}}");

  /** Fields whose baseline holds a claim, so that its own fields can flip. */
  private static final Map<String, String> WITH_CLAIM =
      Map.of(
          "storage.persistentVolumeClaim.claimName", "storage",
          "storage.persistentVolumeClaim.subPath", "storage",
          "checkpointTemplate.storage.persistentVolumeClaim.claimName",
              "checkpointTemplate.storage",
          "checkpointTemplate.storage.persistentVolumeClaim.subPath", "checkpointTemplate.storage");

  KubernetesClient client;
  private final FakeAgents agents = new FakeAgents();
  private final MutableClock clock = new MutableClock();
  private Cluster cluster;
  private int run;

  @Test
  void everySpecFieldHasAProof() throws IOException {
    for (String crd : PROOFS.keySet()) {
      assertThat(new TreeSet<>(PROOFS.get(crd).keySet()))
          .as("spec fields of %s: add an entry to SpecFieldsTest.PROOFS for a new field", crd)
          .isEqualTo(specFields(crd));
    }
    try (Stream<Path> crds = Files.list(repo().resolve("crds"))) {
      assertThat(crds.map(p -> p.getFileName().toString()).toList())
          .as("every CRD has proofs")
          .containsExactlyInAnyOrderElementsOf(PROOFS.keySet());
    }
  }

  @Test
  void everyNamedTestExists() throws IOException {
    for (Map<String, Proof> proofs : PROOFS.values()) {
      for (Proof p : proofs.values()) {
        if (p instanceof Covered c) {
          String[] ref = c.test().split("#");
          String source = Files.readString(repo().resolve(ref[0]));
          Matcher m = Pattern.compile("@Test\\s+void " + ref[1] + "\\(").matcher(source);
          assertThat(m.find()).as("@Test method %s", c.test()).isTrue();
        }
      }
    }
  }

  @TestFactory
  Stream<DynamicTest> flippingAFieldChangesWhatTheOperatorDoes() {
    List<DynamicTest> tests = new ArrayList<>();
    for (var crd : PROOFS.entrySet()) {
      for (var field : crd.getValue().entrySet()) {
        String name = crd.getKey().split("\\.")[0] + " " + field.getKey();
        if (field.getValue() instanceof Flip flip) {
          tests.add(
              DynamicTest.dynamicTest(
                  name,
                  () -> {
                    assertFlip(crd.getKey(), field.getKey(), flip.value(), flip.instead(), true);
                  }));
        } else if (field.getValue() instanceof SameAsDefault d) {
          tests.add(
              DynamicTest.dynamicTest(
                  name, () -> assertFlip(crd.getKey(), field.getKey(), d.value(), null, false)));
        }
      }
    }
    return tests.stream();
  }

  private void assertFlip(String crd, String field, Object value, String instead, boolean matters)
      throws Exception {
    ObjectNode baseline = (ObjectNode) JSON.readTree(BASELINES.get(crd));
    if (WITH_CLAIM.containsKey(field)) {
      set(baseline, WITH_CLAIM.get(field), Map.of("persistentVolumeClaim", claim()));
    }
    ObjectNode flipped = baseline.deepCopy();
    set(flipped, field, value);
    if (instead != null) {
      set(flipped, instead, null);
    }
    assertThat(flipped).as("the flip changes the spec").isNotEqualTo(baseline);
    String before = outcome(crd, baseline);
    String after = outcome(crd, flipped);
    if (matters) {
      assertThat(after)
          .as("setting %s to %s changes nothing the operator does", field, value)
          .isNotEqualTo(before);
    } else {
      assertThat(after).as("setting %s to its default's value %s", field, value).isEqualTo(before);
    }
  }

  /** What the operator did for one resource of {@code crd} with {@code spec}, names normalized. */
  private String outcome(String crd, ObjectNode spec) throws Exception {
    setUpOnce();
    String name = "r" + (++run);
    clock.advance(Duration.between(clock.instant(), T0));
    int submitted = agents.submissions.size();
    Map<String, Object> seen = new LinkedHashMap<>();
    HasMetadata cr =
        switch (crd) {
          case "gpucheckpoints.warmstart.dev-v1.yaml" -> checkpoint(name, spec, seen);
          case "gpurestores.warmstart.dev-v1.yaml" -> restore(name, spec, seen);
          case "gpustandbypools.warmstart.dev-v1.yaml" -> pool(name, spec, seen);
          default -> schedule(name, spec, seen);
        };
    seen.put(
        "agentRequests",
        List.copyOf(agents.submissions.subList(submitted, agents.submissions.size())));
    String json = JSON.writeValueAsString(seen);
    return json.replace(name, "NAME")
        .replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UID")
        .replaceAll("op-[0-9]+", "op");
  }

  private HasMetadata checkpoint(String name, ObjectNode spec, Map<String, Object> seen)
      throws Exception {
    GpuCheckpoint cr = new GpuCheckpoint();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    cr.setSpec(JSON.treeToValue(spec, GpuCheckpointSpec.class));
    cr = client.resource(cr).create();
    Reconcile<GpuCheckpoint, GpuCheckpointStatus> checkpoints = checkpoints();
    for (int i = 0; i < 3; i++) {
      checkpoints.once(name);
      for (Pod p : labelled(StoragePods.LABEL, name)) { // a claim's storage pod: play kubelet
        if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
          cluster.markRunning(p, "store", "containerd://" + p.getMetadata().getName());
        }
      }
    }
    seen.put("status", checkpoints.untilSettled(name, 10).getStatus());
    seen.put("storagePods", labelled(StoragePods.LABEL, name).size());
    return cr;
  }

  private HasMetadata restore(String name, ObjectNode spec, Map<String, Object> seen)
      throws Exception {
    GpuRestore cr = new GpuRestore();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    cr.setSpec(JSON.treeToValue(spec, GpuRestoreSpec.class));
    cr = client.resource(cr).create();
    Reconcile<GpuRestore, GpuRestoreStatus> restores = restores();
    for (int i = 0; i < 6; i++) {
      restores.once(name);
      for (Pod p : placeholders(name)) {
        if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
          cluster.markRunning(p, "server", "containerd://" + p.getMetadata().getName());
        }
      }
    }
    seen.put("status", restores.get(name).getStatus());
    seen.put("pods", placeholders(name).stream().map(p -> p.getSpec()).toList());
    return cr;
  }

  private HasMetadata pool(String name, ObjectNode spec, Map<String, Object> seen)
      throws Exception {
    GpuStandbyPool cr = new GpuStandbyPool();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    cr.setSpec(JSON.treeToValue(spec, GpuStandbyPoolSpec.class));
    cr = client.resource(cr).create();
    var pools =
        new Reconcile<GpuStandbyPool, GpuStandbyPoolStatus>(
            client,
            GpuStandbyPool.class,
            new PoolWorkflow(client, new PoolStatusFactory(clock), events(), new TestConfig())
                ::step,
            clock);
    pools.once(name);
    seen.put("status", pools.once(name).getStatus());
    seen.put(
        "members",
        PoolWorkflow.members(client, Cluster.NS, name).stream()
            .sorted(Comparator.comparing(m -> m.getMetadata().getName()))
            .map(m -> m.getSpec())
            .toList());
    return cr;
  }

  private HasMetadata schedule(String name, ObjectNode spec, Map<String, Object> seen)
      throws Exception {
    GpuCheckpointSchedule cr = new GpuCheckpointSchedule();
    cr.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(Cluster.NS).build());
    cr.setSpec(JSON.treeToValue(spec, GpuCheckpointScheduleSpec.class));
    cr = client.resource(cr).create();
    ScheduleWorkflow workflow =
        new ScheduleWorkflow(
            client,
            agents,
            new ScheduleStatusFactory(clock),
            events(),
            new ScheduleMetrics(new SimpleMeterRegistry()),
            clock);
    // The first reconcile at creation, the next one hour later: a run is due for most schedules.
    scheduleStep(workflow, name);
    clock.advance(Duration.ofHours(1));
    GpuCheckpointSchedule s = scheduleStep(workflow, name);
    seen.put("status", s.getStatus());
    List<GpuCheckpoint> runs = scheduled(name);
    seen.put("checkpoints", runs.stream().map(c -> c.getSpec()).toList());
    // The checkpoints it created run as any other (an invalid template shows there).
    List<Object> outcomes = new ArrayList<>();
    for (GpuCheckpoint c : runs) {
      outcomes.add(checkpoints().untilSettled(c.getMetadata().getName(), 10).getStatus());
    }
    seen.put("runs", outcomes);
    return cr;
  }

  private GpuCheckpointSchedule scheduleStep(ScheduleWorkflow workflow, String name) {
    GpuCheckpointSchedule s =
        client.resources(GpuCheckpointSchedule.class).inNamespace(Cluster.NS).withName(name).get();
    s.getMetadata().setCreationTimestamp(T0.toString());
    Decision<?> d = workflow.step(s, scheduled(name));
    if (!Objects.equals(d.status(), s.getStatus())) {
      s.setStatus((GpuCheckpointScheduleStatus) d.status());
      new StatusWriter(client).write(s);
    }
    return client
        .resources(GpuCheckpointSchedule.class)
        .inNamespace(Cluster.NS)
        .withName(name)
        .get();
  }

  private List<GpuCheckpoint> scheduled(String schedule) {
    return client
        .resources(GpuCheckpoint.class)
        .inNamespace(Cluster.NS)
        .withLabel(GpuCheckpointSchedule.SCHEDULE_LABEL, schedule)
        .list()
        .getItems()
        .stream()
        .sorted(Comparator.comparing(c -> c.getMetadata().getName()))
        .toList();
  }

  private List<Pod> placeholders(String restore) {
    return labelled(PlaceholderPods.RESTORE_LABEL, restore);
  }

  private List<Pod> labelled(String label, String value) {
    return client.pods().inNamespace(Cluster.NS).withLabel(label, value).list().getItems();
  }

  private boolean setUp;

  /** Two running pods on gpu-1 (an agent there) and a succeeded checkpoint "ck" of the first. */
  private void setUpOnce() {
    if (setUp) {
      return;
    }
    setUp = true;
    agents.nodesWithAgent.add("gpu-1");
    cluster = new Cluster(client);
    cluster.runningPod("llm-0", "gpu-1");
    Pod second = cluster.runningPod("llm-1", "gpu-1");
    second.getMetadata().getLabels().put("replica", "b");
    client.resource(second).update();
    cluster.checkpoint("ck", "llm-0");
    checkpoints().untilSettled("ck", 10);
  }

  private Reconcile<GpuCheckpoint, GpuCheckpointStatus> checkpoints() {
    return new Reconcile<>(
        client,
        GpuCheckpoint.class,
        LiveCheckpointWorld.steps(
            client,
            new CheckpointWorkflow(
                client,
                agents,
                new CheckpointStatusFactory(clock),
                events(),
                new OperatorMetrics(new SimpleMeterRegistry()),
                new TestConfig(),
                clock)),
        clock);
  }

  private Reconcile<GpuRestore, GpuRestoreStatus> restores() {
    return new Reconcile<>(
        client,
        GpuRestore.class,
        LiveRestoreWorld.steps(
            client,
            new RestoreWorkflow(
                client,
                agents,
                new RestoreStatusFactory(clock),
                events(),
                new OperatorMetrics(new SimpleMeterRegistry()),
                new TestConfig(),
                clock)),
        clock);
  }

  private EventRecorder events() {
    return new EventRecorder(client, clock);
  }

  /** Sets (or with null removes) the dotted {@code path} in {@code spec}, creating objects. */
  private static void set(ObjectNode spec, String path, Object value) {
    String[] parts = path.split("\\.");
    ObjectNode node = spec;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode next = node.get(parts[i]);
      node = next instanceof ObjectNode o ? o : node.putObject(parts[i]);
    }
    String last = parts[parts.length - 1];
    if (value == null) {
      node.remove(last);
    } else {
      node.set(last, JSON.valueToTree(value));
    }
  }

  /** The spec's field paths in a generated CRD. */
  static TreeSet<String> specFields(String crd) throws IOException {
    JsonNode schema =
        new ObjectMapper(new YAMLFactory())
            .readTree(repo().resolve("crds").resolve(crd).toFile())
            .at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
    TreeSet<String> out = new TreeSet<>();
    walk(schema, "", out);
    return out;
  }

  private static void walk(JsonNode schema, String prefix, TreeSet<String> out) {
    Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields();
    while (it.hasNext()) {
      var e = it.next();
      String path = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      out.add(path);
      walk(e.getValue(), path, out);
      if (e.getValue().path("items").isObject()) {
        walk(e.getValue().path("items"), path + "[]", out);
      }
    }
  }

  static Path repo() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("crds")) ? here : here.getParent();
  }
}
