package dev.warmstart.agent.cli;

import dev.warmstart.agent.core.AgentComponents;
import dev.warmstart.agent.proc.CommandLines;
import dev.warmstart.agent.store.ImageEntry;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.StoreUsage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code warmstart list}: the stored images, broken ones included, and the store's disk use. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    version = WarmstartCli.VERSION,
    description = "List stored images.")
final class ListStep extends Step {
  @Override
  int run(AgentComponents c, Output out) throws Exception {
    List<ImageEntry> images = c.store().entries();
    StoreUsage usage = c.store().usage();
    StringBuilder sb =
        new StringBuilder(
            String.format("%-30s %10s %-25s %s%n", "NAME", "SIZE", "CREATED", "SOURCE"));
    for (ImageEntry e : images) {
      Manifest m = e.manifest();
      sb.append(
          e.broken()
              ? String.format(
                  "%-30s %10s %-25s %s%n",
                  e.name(), ImageViews.mib(e.diskBytes()), "-", "BROKEN: " + e.problem())
              : String.format(
                  "%-30s %10s %-25s %s%n",
                  m.name(),
                  ImageViews.mib(m.sizeBytes()),
                  m.createdAt(),
                  CommandLines.redact(m.source().command())));
    }
    sb.append(
        String.format(
            "%nstore %s: %d image(s)%s, %s; in progress %s; %s free",
            usage.root(),
            usage.images(),
            usage.brokenImages() > 0 ? " (" + usage.brokenImages() + " broken)" : "",
            ImageViews.mib(usage.imageBytes()),
            ImageViews.mib(usage.inProgressBytes()),
            ImageViews.mib(usage.freeBytes())));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("images", images.stream().map(ImageViews::summary).toList());
    result.put("store", usage);
    out.result(result, sb.toString());
    return ExitCodes.OK;
  }
}
