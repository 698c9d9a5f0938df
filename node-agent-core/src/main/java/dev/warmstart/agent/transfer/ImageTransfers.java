package dev.warmstart.agent.transfer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warmstart.agent.core.OperationFailure;
import dev.warmstart.agent.proc.ContainerLocator;
import dev.warmstart.agent.proc.ContainerRef;
import dev.warmstart.agent.store.ImageExistsException;
import dev.warmstart.agent.store.ImageIntegrityException;
import dev.warmstart.agent.store.ImageNotFoundException;
import dev.warmstart.agent.store.ImageStore;
import dev.warmstart.agent.store.Manifest;
import dev.warmstart.agent.store.ScratchDir;
import dev.warmstart.agent.store.StoredImage;
import dev.warmstart.api.agent.ErrorReason;
import dev.warmstart.api.agent.ImageTransfer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Copies images between the node's store and an image store on a PersistentVolumeClaim (the same
 * layout, {@link ImageStore}, rooted at the claim's sub-directory). The claim is reached through a
 * running container that mounts it ({@code /proc/<its init>/root/<mount path>}), so the agent needs
 * no volume plugin of its own and no host path of the volume: the kubelet mounted the claim for
 * that pod on this node, whatever its kind. Every copy is checked: the receiving store digests each
 * copied file, and the copy is refused unless those digests are the manifest's (and, for an import,
 * the manifest is the one the checkpoint recorded).
 */
public final class ImageTransfers {
  private static final Pattern SUB_PATH = Pattern.compile("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$");
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ContainerLocator containers;

  public ImageTransfers(ContainerLocator containers) {
    this.containers = containers;
  }

  /** Copies a stored image into the claim's store (an older copy of that name is replaced). */
  public StoredImage export(StoredImage image, ImageTransfer to) throws OperationFailure {
    ImageStore remote = store(to);
    Optional<StoredImage> there = existing(remote, image.name());
    if (there.isPresent() && there.get().digest().equals(image.digest())) {
      return there.get();
    }
    return copy(image.dir(), image.manifest(), image.digest(), remote, image.name());
  }

  /**
   * Makes the node's store hold the image the claim's store holds under {@code name}, with {@code
   * from.digest()}: kept if already there, else copied and checked.
   */
  public void importImage(ImageStore local, String name, ImageTransfer from)
      throws OperationFailure {
    Optional<StoredImage> here = existing(local, name);
    if (here.isPresent() && here.get().digest().equals(from.digest())) {
      return;
    }
    // Only read: the placeholder may mount the claim read-only.
    Path root = volumeDir(from);
    Path dir = root.resolve(name);
    try {
      byte[] bytes = Files.readAllBytes(dir.resolve(Manifest.FILE_NAME));
      String digest = "sha256:" + sha256(bytes);
      if (from.digest() != null && !from.digest().equals(digest)) {
        throw new OperationFailure(
            ErrorReason.ImageIntegrityFailed,
            "image '"
                + name
                + "' on the volume has manifest digest "
                + digest
                + ", the checkpoint recorded "
                + from.digest());
      }
      Manifest manifest;
      try {
        manifest = JSON.readValue(bytes, Manifest.class);
      } catch (IOException e) {
        throw new OperationFailure(
            ErrorReason.ImageIntegrityFailed,
            "image '" + name + "' on the volume: manifest.json is not valid: " + e.getMessage(),
            e);
      }
      copy(dir, manifest, digest, local, name);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new OperationFailure(
          ErrorReason.ImageNotFound,
          "no image '" + name + "' in " + root + " (" + describe(from) + ")",
          e);
    } catch (IOException e) {
      throw ioFailure("reading image '" + name + "' from the volume", e);
    }
  }

  private static OperationFailure ioFailure(String what, IOException e) {
    boolean full = String.valueOf(e.getMessage()).contains("No space left");
    return new OperationFailure(
        full ? ErrorReason.NoSpace : ErrorReason.Internal, what + ": " + e.getMessage(), e);
  }

  /** Copies the manifest's files into {@code dest} as {@code name}; their digests must match. */
  private static StoredImage copy(
      Path from, Manifest manifest, String digest, ImageStore dest, String name)
      throws OperationFailure {
    try (ScratchDir staging = dest.stage(name)) {
      for (Manifest.FileEntry f : manifest.files()) {
        Path target = staging.dir().resolve(f.path()).normalize();
        if (!target.startsWith(staging.dir())) {
          throw new OperationFailure(
              ErrorReason.ImageIntegrityFailed, "image file " + f.path() + " leaves the image");
        }
        Files.createDirectories(target.getParent());
        Files.copy(from.resolve(f.path()), target);
      }
      return dest.commit(
          staging,
          name,
          true,
          draft -> {
            if (!draft.files().equals(manifest.files())) {
              throw new UncheckedIOException(
                  new IOException(
                      new ImageIntegrityException(
                          "image '"
                              + name
                              + "': the copy's files or digests differ from its manifest")));
            }
            return manifest;
          });
    } catch (UncheckedIOException e) {
      if (e.getCause().getCause() instanceof ImageIntegrityException x) {
        throw new OperationFailure(ErrorReason.ImageIntegrityFailed, x.getMessage(), x);
      }
      throw ioFailure("copying image '" + name + "'", e.getCause());
    } catch (java.nio.file.NoSuchFileException e) {
      throw new OperationFailure(
          ErrorReason.ImageIntegrityFailed,
          "image '" + name + "': file " + e.getFile() + " listed in its manifest is missing",
          e);
    } catch (IOException e) {
      throw ioFailure("copying image '" + name + "' to " + dest.root(), e);
    } catch (ImageExistsException e) {
      throw new OperationFailure(ErrorReason.ImageExists, e.getMessage(), e); // replace was asked
    }
  }

  private static Optional<StoredImage> existing(ImageStore store, String name) {
    try {
      if (!store.exists(name)) {
        return Optional.empty();
      }
      Manifest m = store.manifest(name);
      byte[] bytes = Files.readAllBytes(store.root().resolve(name).resolve(Manifest.FILE_NAME));
      return Optional.of(
          new StoredImage(name, store.root().resolve(name), m, "sha256:" + sha256(bytes)));
    } catch (IOException | ImageNotFoundException e) {
      return Optional.empty(); // unreadable: copied over
    }
  }

  /** The image store in the claim, as the container that mounts it shows it on this node. */
  private ImageStore store(ImageTransfer t) throws OperationFailure {
    Path dir = volumeDir(t);
    try {
      return new ImageStore(dir);
    } catch (IOException e) {
      throw ioFailure("opening the image store on the volume (" + describe(t) + ")", e);
    }
  }

  private Path volumeDir(ImageTransfer t) throws OperationFailure {
    if (t.subPath() == null || !SUB_PATH.matcher(t.subPath()).matches()) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "subPath '" + t.subPath() + "' must be relative, without '..' or empty parts");
    }
    ContainerRef c;
    try {
      c =
          containers
              .find(t.containerId())
              .orElseThrow(
                  () ->
                      new OperationFailure(
                          ErrorReason.ContainerNotFound,
                          "no running container " + t.containerId() + " mounting the volume"));
    } catch (IOException | IllegalArgumentException e) {
      throw new OperationFailure(ErrorReason.ContainerNotFound, e.getMessage(), e);
    }
    if (c.sourceOf(t.mountPath()).isEmpty()) {
      throw new OperationFailure(
          ErrorReason.InvalidRequest,
          "container " + c.id() + " mounts nothing at " + t.mountPath());
    }
    // Through the container's own mount namespace: whatever plugin mounted the claim, and wherever
    // on the node, the agent (hostPID) sees it there.
    return Path.of("/proc", Integer.toString(c.initPid()), "root")
        .resolve(t.mountPath().replaceFirst("^/+", ""))
        .resolve(t.subPath());
  }

  private static String describe(ImageTransfer t) {
    return "volume at " + t.mountPath() + " of container " + t.containerId() + ", " + t.subPath();
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
