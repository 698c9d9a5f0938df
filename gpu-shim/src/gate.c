/*
 * The gate: while the program's managed memory is absent (from CHECKPOINT until RESUME or RESTORE,
 * across a CRIU dump and restore), no thread of the program may run CUDA work.
 *
 * Every driver function the program obtains (dlsym on libcuda, cuGetProcAddress, and so also every
 * runtime call) is handed out as a trampoline: a 16-byte stub that loads its slot number and jumps
 * to ws_gate_common. The common path counts the thread in (one locked increment), checks the
 * gate, and calls the driver's function with every argument register as it came and the first 16
 * stack argument words copied into its own frame (no driver function takes more: CUDA passes
 * structures by pointer), then counts the thread out. With the gate closed, the thread waits on a
 * condition variable instead. Closing waits until no thread is inside the driver, so nothing the
 * program launched or called can touch memory that is being copied or is gone. Open, the cost is
 * two uncontended atomic operations and a 128-byte copy per driver call.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim.h"

#define WS_GATE_SLOTS 8192

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN volatile int ws_gate_closed;
HIDDEN volatile long ws_gate_inflight;
HIDDEN void *ws_gate_targets[WS_GATE_SLOTS];
HIDDEN void ws_gate_wait(void);
extern char ws_gate_stubs[] HIDDEN;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int used;

/* clang-format off */
__asm__(
	".text\n"
	".balign 16\n"
	".globl ws_gate_stubs\n"
	".hidden ws_gate_stubs\n"
	"ws_gate_stubs:\n"
	".set ws_i, 0\n"
	".rept 8192\n"
	"  .balign 16\n"
	"  movl $ws_i, %r11d\n"
	"  jmp ws_gate_common\n"
	"  .set ws_i, ws_i + 1\n"
	".endr\n"

	".balign 16\n"
	".type ws_gate_common, @function\n"
	"ws_gate_common:\n"
	"  .cfi_startproc\n"
	"  lock incq ws_gate_inflight(%rip)\n"
	"  cmpl $0, ws_gate_closed(%rip)\n"
	"  jne 9f\n"
	"  leaq ws_gate_targets(%rip), %r10\n"
	"  movq (%r10,%r11,8), %r11\n"
	/* a frame of 136 bytes: the caller's first 16 stack argument words copied down, so that the
	 * driver's function sees its arguments where it expects them, and a real call, which keeps
	 * the CPU's return prediction right (every argument register is untouched) */
	"  subq $136, %rsp\n"
	"  .cfi_adjust_cfa_offset 136\n"
	"  movq 144(%rsp), %r10\n  movq %r10, 0(%rsp)\n"
	"  movq 152(%rsp), %r10\n  movq %r10, 8(%rsp)\n"
	"  movq 160(%rsp), %r10\n  movq %r10, 16(%rsp)\n"
	"  movq 168(%rsp), %r10\n  movq %r10, 24(%rsp)\n"
	"  movq 176(%rsp), %r10\n  movq %r10, 32(%rsp)\n"
	"  movq 184(%rsp), %r10\n  movq %r10, 40(%rsp)\n"
	"  movq 192(%rsp), %r10\n  movq %r10, 48(%rsp)\n"
	"  movq 200(%rsp), %r10\n  movq %r10, 56(%rsp)\n"
	"  movq 208(%rsp), %r10\n  movq %r10, 64(%rsp)\n"
	"  movq 216(%rsp), %r10\n  movq %r10, 72(%rsp)\n"
	"  movq 224(%rsp), %r10\n  movq %r10, 80(%rsp)\n"
	"  movq 232(%rsp), %r10\n  movq %r10, 88(%rsp)\n"
	"  movq 240(%rsp), %r10\n  movq %r10, 96(%rsp)\n"
	"  movq 248(%rsp), %r10\n  movq %r10, 104(%rsp)\n"
	"  movq 256(%rsp), %r10\n  movq %r10, 112(%rsp)\n"
	"  movq 264(%rsp), %r10\n  movq %r10, 120(%rsp)\n"
	"  call *%r11\n"
	"  addq $136, %rsp\n"
	"  .cfi_adjust_cfa_offset -136\n"
	"  lock decq ws_gate_inflight(%rip)\n"
	"  ret\n"
	/* closed: wait with every argument register saved, then try again */
	"9:\n"
	"  lock decq ws_gate_inflight(%rip)\n"
	"  pushq %rdi\n  pushq %rsi\n  pushq %rdx\n  pushq %rcx\n"
	"  pushq %r8\n  pushq %r9\n  pushq %rax\n  pushq %r11\n"
	"  subq $136, %rsp\n"
	"  .cfi_adjust_cfa_offset 200\n"
	"  movdqu %xmm0, 0(%rsp)\n  movdqu %xmm1, 16(%rsp)\n  movdqu %xmm2, 32(%rsp)\n  movdqu %xmm3, 48(%rsp)\n"
	"  movdqu %xmm4, 64(%rsp)\n  movdqu %xmm5, 80(%rsp)\n  movdqu %xmm6, 96(%rsp)\n  movdqu %xmm7, 112(%rsp)\n"
	"  call ws_gate_wait\n"
	"  movdqu 0(%rsp), %xmm0\n  movdqu 16(%rsp), %xmm1\n  movdqu 32(%rsp), %xmm2\n  movdqu 48(%rsp), %xmm3\n"
	"  movdqu 64(%rsp), %xmm4\n  movdqu 80(%rsp), %xmm5\n  movdqu 96(%rsp), %xmm6\n  movdqu 112(%rsp), %xmm7\n"
	"  addq $136, %rsp\n"
	"  popq %r11\n  popq %rax\n  popq %r9\n  popq %r8\n"
	"  popq %rcx\n  popq %rdx\n  popq %rsi\n  popq %rdi\n"
	"  .cfi_adjust_cfa_offset -200\n"
	"  jmp ws_gate_common\n"
	"  .cfi_endproc\n"
	".size ws_gate_common, .-ws_gate_common\n");
/* clang-format on */

void ws_gate_wait(void)
{
	pthread_mutex_lock(&mu);
	while (ws_gate_closed)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static int enabled(void)
{
	static int on = -1;
	if (on < 0) {
		const char *v = getenv("WARMSTART_GPUMEM_GATE");
		on = !(v && !strcmp(v, "0"));
		if (!on)
			ws_log("WARMSTART_GPUMEM_GATE=0: the program's CUDA calls are NOT held during checkpoints\n");
	}
	return on;
}

void *ws_gate_wrap(void *fn)
{
	void *stub = fn;
	int i;

	if (!fn || !enabled())
		return fn;
	pthread_mutex_lock(&mu);
	for (i = 0; i < used; i++)
		if (ws_gate_targets[i] == fn)
			break;
	if (i == used && used < WS_GATE_SLOTS)
		ws_gate_targets[used++] = fn;
	if (i < used)
		stub = ws_gate_stubs + 16 * i;
	else
		ws_log("more than %d driver functions: %p is not gated\n", WS_GATE_SLOTS, fn);
	pthread_mutex_unlock(&mu);
	return stub;
}

void ws_gate_enter(void)
{
	for (;;) {
		__atomic_add_fetch(&ws_gate_inflight, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&ws_gate_closed, __ATOMIC_SEQ_CST))
			return;
		__atomic_sub_fetch(&ws_gate_inflight, 1, __ATOMIC_SEQ_CST);
		ws_gate_wait();
	}
}

void ws_gate_leave(void)
{
	__atomic_sub_fetch(&ws_gate_inflight, 1, __ATOMIC_SEQ_CST);
}

int ws_gate_is_closed(void)
{
	return __atomic_load_n(&ws_gate_closed, __ATOMIC_SEQ_CST);
}

int ws_gate_close(double timeout_s)
{
	double deadline = ws_now_ms() + timeout_s * 1e3;
	struct timespec nap = { 0, 100000 };

	pthread_mutex_lock(&mu);
	__atomic_store_n(&ws_gate_closed, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&mu);
	while (__atomic_load_n(&ws_gate_inflight, __ATOMIC_SEQ_CST) > 0) {
		if (ws_now_ms() > deadline) {
			ws_gate_open();
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

void ws_gate_open(void)
{
	pthread_mutex_lock(&mu);
	__atomic_store_n(&ws_gate_closed, 0, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}
