package dev.warmstart.agent.it;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Sets environment variables of this JVM's process for native code: the fake libcuda/NVML loaded by
 * the agent's JNA bindings read theirs with getenv, which System.getenv cannot change.
 */
final class NativeEnv {
  private interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int setenv(String name, String value, int overwrite);

    int unsetenv(String name);
  }

  private NativeEnv() {}

  static void set(String name, String value) {
    if (LibC.INSTANCE.setenv(name, value, 1) != 0) {
      throw new IllegalStateException("setenv " + name + " failed");
    }
  }

  static void unset(String name) {
    if (LibC.INSTANCE.unsetenv(name) != 0) {
      throw new IllegalStateException("unsetenv " + name + " failed");
    }
  }
}
