package dev.warmstart.agent.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warmstart.agent.AgentConfig;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The authenticator's caches and bounds, against a stand-in TokenReviewer (the real one is the API
 * server, which AgentApiTest and cluster-e2e's SecurityIT use); the clock is fixed.
 */
class AgentAuthenticatorTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(16);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /** A review that blocks until released, counting calls and the most in flight at once. */
  static final class SlowReviewer implements TokenReviewer {
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();

    @Override
    public Review review(String token, String audience) {
      calls.incrementAndGet();
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        inFlight.decrementAndGet();
      }
      return token.startsWith("ok")
          ? new Review(true, "system:serviceaccount:ws:op", List.of("warmstart-agent"), null)
          : new Review(false, null, List.of(), "token not valid");
    }
  }

  private static AgentAuthenticator authenticator(TokenReviewer r, Clock clock) {
    AgentConfig.Auth auth =
        new AgentConfig.Auth() {
          public boolean enabled() {
            return true;
          }

          public String audience() {
            return "warmstart-agent";
          }

          public String allowedUser() {
            return "system:serviceaccount:ws:op";
          }

          public int cacheSeconds() {
            return 60;
          }

          public int negativeCacheSeconds() {
            return 10;
          }

          public int maxConcurrentReviews() {
            return 4;
          }

          public int reviewTimeoutMillis() {
            return 300;
          }
        };
    return new AgentAuthenticator(r, auth, clock);
  }

  @Test
  void atMostTheBoundOfReviewsRunAndTheRestAreRefusedQuickly() throws Exception {
    SlowReviewer reviewer = new SlowReviewer();
    AgentAuthenticator auth = authenticator(reviewer, Clock.systemUTC());
    List<Future<AgentAuthenticator.Decision>> answers = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < 12; i++) {
      String token = "bad-" + i;
      answers.add(pool.submit(() -> auth.decide("Bearer " + token)));
    }
    Thread.sleep(1000); // past the 300 ms a call waits for a place
    assertThat(reviewer.maxInFlight.get()).as("reviews in flight at once").isEqualTo(4);
    reviewer.release.countDown();
    int unavailable = 0;
    for (Future<AgentAuthenticator.Decision> f : answers) {
      if (f.get(10, TimeUnit.SECONDS).status() == 503) {
        unavailable++;
      }
    }
    assertThat(reviewer.maxInFlight.get()).isEqualTo(4);
    assertThat(reviewer.calls.get()).isEqualTo(4);
    assertThat(unavailable).as("refused while the reviews were full").isEqualTo(8);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5000);
  }

  @Test
  void concurrentCallsWithOneTokenShareOneReview() throws Exception {
    SlowReviewer reviewer = new SlowReviewer();
    AgentAuthenticator auth = authenticator(reviewer, Clock.systemUTC());
    List<Future<AgentAuthenticator.Decision>> answers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      answers.add(pool.submit(() -> auth.decide("Bearer ok-operator")));
    }
    Thread.sleep(200);
    reviewer.release.countDown();
    for (Future<AgentAuthenticator.Decision> f : answers) {
      assertThat(f.get(10, TimeUnit.SECONDS).allowed()).isTrue();
    }
    assertThat(reviewer.calls.get()).isEqualTo(1);
  }

  @Test
  void refusalsAreRememberedForTheNegativeTtlAndAcceptancesForTheirOwn() {
    SlowReviewer reviewer = new SlowReviewer();
    reviewer.release.countDown();
    MutableClock clock = new MutableClock();
    AgentAuthenticator auth = authenticator(reviewer, clock);
    for (int i = 0; i < 5; i++) {
      assertThat(auth.decide("Bearer forged").status()).isEqualTo(401);
      assertThat(auth.decide("Bearer ok-op").allowed()).isTrue();
    }
    assertThat(reviewer.calls.get()).isEqualTo(2);
    clock.now = clock.now.plusSeconds(11);
    assertThat(auth.decide("Bearer forged").status()).isEqualTo(401);
    assertThat(auth.decide("Bearer ok-op").allowed()).isTrue();
    assertThat(reviewer.calls.get()).as("the refusal expired, the acceptance not").isEqualTo(3);
    clock.now = clock.now.plusSeconds(60);
    auth.decide("Bearer ok-op");
    assertThat(reviewer.calls.get()).isEqualTo(4);
  }

  @Test
  void aFailingReviewIsNotRemembered() {
    AtomicInteger calls = new AtomicInteger();
    AgentAuthenticator auth =
        authenticator(
            (token, audience) -> {
              calls.incrementAndGet();
              throw new IllegalStateException("connection refused");
            },
            Clock.systemUTC());
    assertThat(auth.decide("Bearer ok-op").reason()).isEqualTo("TokenReviewUnavailable");
    assertThat(auth.decide("Bearer ok-op").status()).isEqualTo(503);
    assertThat(calls.get()).as("asked again: the API server may be back").isEqualTo(2);
  }

  static final class MutableClock extends Clock {
    Instant now = Instant.parse("2026-11-30T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
