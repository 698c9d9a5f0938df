package dev.warmstart.agent.gpumem;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ShimReplyTest {
  @Test
  void okAnswersCarryTheirFigures() {
    ShimReply r = ShimReply.parse("OK allocations=2 bytes=134217728 copyMs=12.5 totalMs=14.0\n");
    assertThat(r.ok()).isTrue();
    assertThat(r.figures())
        .containsEntry("allocations", "2")
        .containsEntry("bytes", "134217728")
        .containsEntry("copyMs", "12.5");
  }

  @Test
  void errorsCarryTheShimsReasonAndText() {
    ShimReply r = ShimReply.parse("ERR OutOfMemory cannot get 2097152 bytes of GPU memory back");
    assertThat(r.ok()).isFalse();
    assertThat(r.reason()).isEqualTo("OutOfMemory");
    assertThat(r.text()).isEqualTo("cannot get 2097152 bytes of GPU memory back");
    assertThat(r.figures()).isEmpty();
    assertThat(r).hasToString("OutOfMemory: cannot get 2097152 bytes of GPU memory back");
  }

  @Test
  void silenceOrGarbageIsNoAnswer() {
    assertThat(ShimReply.parse("").reason()).isEqualTo("NoAnswer");
    assertThat(ShimReply.parse(null).ok()).isFalse();
    assertThat(ShimReply.parse("HELLO").reason()).isEqualTo("NoAnswer");
    assertThat(ShimReply.parse("HELLO").text()).isEqualTo("HELLO");
  }
}
