package dev.warmstart.operator;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Beans the operator's classes share. */
public class OperatorBeans {
  @Produces
  @Singleton
  Clock clock() {
    return Clock.systemUTC();
  }
}
