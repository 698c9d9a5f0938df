/*
 * The payload: every managed allocation copied to files and back, over pinned staging buffers,
 * one stream pair and one file per worker thread, each chunk's sha256 in the index.
 *
 * Layout of a payload directory (the agent creates and opens the files and passes their fds):
 *   gpumem.index   text: "warmstart-gpumem 1", "chunk_bytes N", "files N", then
 *                  "alloc VA SIZE DEVICE" lines and "chunk VA LEN FILE OFFSET SHA256" lines
 *   data-<i>.bin   worker i's chunks, back to back
 * The index is written last and fsync'ed: an empty index, no payload.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define WS_INDEX "gpumem.index"
#define WS_MAX_LISTED 65536
#define WS_MAX_CTX 16

struct chunk {
	CUdeviceptr va;
	size_t len;
	CUcontext ctx;
	int file;
	off_t offset;
	char sha[65];
};

struct job {
	const struct ws_files *files;
	int restoring;
	struct chunk *chunks;
	size_t nchunks;
	size_t chunk_bytes;
	int nfiles;
	int failed;
	char err[512];
	pthread_mutex_t mu;
};

struct worker {
	struct job *job;
	int index;
	pthread_t thread;
};

static size_t env_size(const char *name, size_t dflt)
{
	const char *v = getenv(name);
	long n = v && *v ? atol(v) : 0;
	return n > 0 ? (size_t)n : dflt;
}

static void fail(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct job *job, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&job->mu);
	if (!job->failed) {
		job->failed = 1;
		va_start(ap, fmt);
		vsnprintf(job->err, sizeof(job->err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&job->mu);
}

static int stop(struct job *job)
{
	return __atomic_load_n(&job->failed, __ATOMIC_SEQ_CST);
}

struct streams {
	CUcontext ctx[WS_MAX_CTX];
	CUstream s[WS_MAX_CTX][2];
	int n;
};

/* The worker's two streams in ctx (made current), created on first use. */
static CUstream *streams_for(struct streams *st, CUcontext ctx, CUresult *r)
{
	int i;

	*r = ws_drv.cuCtxSetCurrent(ctx);
	if (*r)
		return NULL;
	for (i = 0; i < st->n; i++)
		if (st->ctx[i] == ctx)
			return st->s[i];
	if (st->n == WS_MAX_CTX) {
		*r = CUDA_ERROR_INVALID_VALUE;
		return NULL;
	}
	if ((*r = ws_drv.cuStreamCreate(&st->s[i][0], 1 /* NON_BLOCKING */)) ||
	    (*r = ws_drv.cuStreamCreate(&st->s[i][1], 1))) {
		return NULL;
	}
	st->ctx[i] = ctx;
	st->n++;
	return st->s[i];
}

static void streams_free(struct streams *st)
{
	for (int i = 0; i < st->n; i++) {
		ws_drv.cuCtxSetCurrent(st->ctx[i]);
		ws_drv.cuStreamDestroy_v2(st->s[i][0]);
		ws_drv.cuStreamDestroy_v2(st->s[i][1]);
	}
}

static int full_io(int fd, void *buf, size_t len, off_t off, int writing)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = writing ? pwrite(fd, (char *)buf + done, len - done, off + done)
				    : pread(fd, (char *)buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		done += n;
	}
	return 0;
}

/*
 * One worker: its chunks (every nfiles-th) in its own file. Two pinned buffers alternate, so the
 * copy of one chunk overlaps the disk and the hashing of the other.
 */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct job *job = w->job;
	struct streams st = { .n = 0 };
	void *buf[2] = { NULL, NULL };
	struct chunk *pending[2] = { NULL, NULL };
	CUstream pending_stream[2] = { NULL, NULL };
	char name[64];
	int fd = -1, k = 0;
	CUresult r;

	snprintf(name, sizeof(name), "data-%d.bin", w->index);
	fd = job->files->data[w->index];
	for (size_t i = 0; i < job->nchunks && !stop(job); i++) {
		struct chunk *c = &job->chunks[i];
		CUstream *s;
		int b;

		if (c->file != w->index)
			continue;
		s = streams_for(&st, c->ctx, &r);
		b = k++ & 1;
		if (!s) {
			fail(job, "CopyFailed streams: %s", ws_cu_error(r));
			break;
		}
		if (!buf[0]) {
			for (int j = 0; j < 2; j++) {
				if ((r = ws_drv.cuMemHostAlloc(&buf[j], job->chunk_bytes, 1 /* PORTABLE: any context */))) {
					buf[j] = NULL;
					fail(job, "CopyFailed pinned staging buffer of %zu bytes: %s", job->chunk_bytes,
					     ws_cu_error(r));
					goto out;
				}
			}
		}
		/* buffer b's previous chunk must be done with it */
		if (pending[b]) {
			if ((r = ws_drv.cuStreamSynchronize(pending_stream[b]))) {
				fail(job, "CopyFailed stream: %s", ws_cu_error(r));
				break;
			}
			if (!job->restoring) {
				unsigned char d[32];
				ws_sha256(buf[b], pending[b]->len, d);
				ws_hex(d, 32, pending[b]->sha);
				if (full_io(fd, buf[b], pending[b]->len, pending[b]->offset, 1)) {
					fail(job, "CopyFailed writing %s: %s", name, strerror(errno));
					break;
				}
			}
			pending[b] = NULL;
		}
		if (job->restoring) {
			unsigned char d[32];
			char hex[65];
			if (full_io(fd, buf[b], c->len, c->offset, 0)) {
				fail(job, "PayloadMissing reading %s at %lld: %s", name, (long long)c->offset,
				     strerror(errno));
				break;
			}
			ws_sha256(buf[b], c->len, d);
			ws_hex(d, 32, hex);
			if (strcmp(hex, c->sha)) {
				fail(job, "PayloadDigestMismatch %s at offset %lld (GPU address 0x%llx) has sha256 %s, the index says %s",
				     name, (long long)c->offset, c->va, hex, c->sha);
				break;
			}
			r = ws_drv.cuMemcpyHtoDAsync_v2(c->va, buf[b], c->len, s[b]);
		} else {
			r = ws_drv.cuMemcpyDtoHAsync_v2(buf[b], c->va, c->len, s[b]);
		}
		if (r) {
			fail(job, "CopyFailed copy of %zu bytes at 0x%llx: %s", c->len, c->va, ws_cu_error(r));
			break;
		}
		pending[b] = c;
		pending_stream[b] = s[b];
	}
	/* drain: the older buffer first, so a checkpoint writes its file in order */
	for (int j = 0; j < 2; j++) {
		int b = (k + j) & 1;
		if (!pending[b])
			continue;
		if ((r = ws_drv.cuStreamSynchronize(pending_stream[b]))) {
			fail(job, "CopyFailed stream: %s", ws_cu_error(r));
			continue;
		}
		if (!job->restoring && !stop(job)) {
			unsigned char d[32];
			ws_sha256(buf[b], pending[b]->len, d);
			ws_hex(d, 32, pending[b]->sha);
			if (full_io(fd, buf[b], pending[b]->len, pending[b]->offset, 1))
				fail(job, "CopyFailed writing %s: %s", name, strerror(errno));
		}
	}
out:
	for (int j = 0; j < 2; j++)
		if (buf[j])
			ws_drv.cuMemFreeHost(buf[j]);
	streams_free(&st);
	if (!job->restoring && !stop(job) && fdatasync(fd))
		fail(job, "CopyFailed fsync %s: %s", name, strerror(errno));
	return NULL;
}

static int run_workers(struct job *job)
{
	struct worker w[64];
	int n = job->nfiles;

	pthread_mutex_init(&job->mu, NULL);
	for (int i = 0; i < n; i++) {
		w[i].job = job;
		w[i].index = i;
		if (pthread_create(&w[i].thread, NULL, work, &w[i])) {
			fail(job, "CopyFailed cannot start worker %d", i);
			n = i;
			break;
		}
	}
	for (int i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	return job->failed ? -1 : 0;
}

static int plan(struct job *job, struct ws_alloc **a, size_t na)
{
	size_t n = 0, cap = 0;
	off_t *next;

	job->chunk_bytes = env_size("WARMSTART_GPUMEM_CHUNK_MB", 16) << 20;
	job->nfiles = job->files->ndata;
	for (size_t i = 0; i < na; i++)
		cap += (a[i]->size + job->chunk_bytes - 1) / job->chunk_bytes;
	job->chunks = calloc(cap ? cap : 1, sizeof(struct chunk));
	next = calloc(job->nfiles, sizeof(off_t));
	if (!job->chunks || !next) {
		free(next);
		return -1;
	}
	for (size_t i = 0; i < na; i++) {
		for (size_t off = 0; off < a[i]->size; off += job->chunk_bytes) {
			struct chunk *c = &job->chunks[n];
			c->va = a[i]->va + off;
			c->len = a[i]->size - off < job->chunk_bytes ? a[i]->size - off : job->chunk_bytes;
			c->ctx = a[i]->ctx;
			c->file = n % job->nfiles;
			c->offset = next[c->file];
			next[c->file] += c->len;
			n++;
		}
	}
	job->nchunks = n;
	free(next);
	return 0;
}

static int write_index(const struct ws_files *files, struct job *job, struct ws_alloc **a, size_t na, char *msg,
		       size_t msglen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret = -1;

	if (!f) {
		snprintf(msg, msglen, "CopyFailed out of host memory for the index");
		return -1;
	}
	fprintf(f, "warmstart-gpumem 1\nchunk_bytes %zu\nfiles %d\n", job->chunk_bytes, job->nfiles);
	for (size_t i = 0; i < na; i++)
		fprintf(f, "alloc 0x%llx %zu %d\n", a[i]->va, a[i]->size, a[i]->device);
	for (size_t i = 0; i < job->nchunks; i++) {
		struct chunk *c = &job->chunks[i];
		fprintf(f, "chunk 0x%llx %zu %d %lld %s\n", c->va, c->len, c->file, (long long)c->offset, c->sha);
	}
	if (fclose(f) == 0 && ftruncate(files->index, 0) == 0 && full_io(files->index, text, len, 0, 1) == 0 &&
	    fdatasync(files->index) == 0)
		ret = 0;
	else
		snprintf(msg, msglen, "CopyFailed cannot write the index: %s", strerror(errno));
	free(text);
	return ret;
}

/* A failed checkpoint leaves empty files (the agent removes its staging directory). */
static void remove_payload(const struct ws_files *files)
{
	for (int i = 0; i < files->ndata; i++)
		if (ftruncate(files->data[i], 0)) {
			/* the agent removes the directory anyway */
		}
	if (ftruncate(files->index, 0)) {
	}
}

static int sync_contexts(struct ws_alloc **a, size_t na, char *msg, size_t msglen)
{
	CUcontext done[WS_MAX_CTX];
	int nd = 0;
	CUresult r;

	for (size_t i = 0; i < na; i++) {
		int seen = 0;
		for (int j = 0; j < nd; j++)
			seen |= done[j] == a[i]->ctx;
		if (seen)
			continue;
		if ((r = ws_drv.cuCtxSetCurrent(a[i]->ctx)) || (r = ws_drv.cuCtxSynchronize())) {
			snprintf(msg, msglen, "CopyFailed the GPU's work did not finish: %s", ws_cu_error(r));
			return -1;
		}
		if (nd < WS_MAX_CTX)
			done[nd++] = a[i]->ctx;
	}
	return 0;
}

static struct ws_alloc *listed[WS_MAX_LISTED];

static int load(const struct ws_files *files, struct ws_alloc **a, size_t na, char *msg, size_t msglen,
		double *bytes_out);

/* Whether the agent that asked is still waiting (a client that gave up must not find the memory gone). */
static int still_asked(int clientfd)
{
	struct pollfd p = { .fd = clientfd, .events = POLLRDHUP };

	if (clientfd < 0)
		return 1;
	return poll(&p, 1, 0) == 0 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Called with the gate closed and no program thread in the driver. */
int ws_payload_checkpoint(const struct ws_files *files, int clientfd, char *msg, size_t msglen)
{
	struct job job = { .files = files, .restoring = 0 };
	size_t na, bytes = 0;
	double t0 = ws_now_ms(), copy_ms;
	int ret = -1;

	ws_registry_lock();
	na = ws_registry_list_locked(listed, WS_MAX_LISTED);
	for (size_t i = 0; i < na; i++) {
		if (listed[i]->state != WS_MAPPED) {
			snprintf(msg, msglen, "InvalidState the memory is already out (checkpointed, not resumed)");
			goto out;
		}
		bytes += listed[i]->size;
	}
	if (sync_contexts(listed, na, msg, msglen))
		goto out;
	if (plan(&job, listed, na)) {
		snprintf(msg, msglen, "CopyFailed out of host memory for the plan");
		goto out;
	}
	if (run_workers(&job)) {
		snprintf(msg, msglen, "%s", job.err);
		remove_payload(files);
		goto out;
	}
	if (write_index(files, &job, listed, na, msg, msglen)) {
		remove_payload(files);
		goto out;
	}
	copy_ms = ws_now_ms() - t0;
	if (!still_asked(clientfd)) {
		snprintf(msg, msglen, "Abandoned the agent stopped waiting; the memory stays in place");
		remove_payload(files);
		goto out;
	}
	for (size_t i = 0; i < na; i++) {
		CUresult r = ws_unmap_physical(listed[i]);
		if (r) {
			/* The payload is complete: put back what already left, then report. */
			char ignored[256];
			double b;
			snprintf(msg, msglen, "ReleaseFailed cannot release 0x%llx: %s", listed[i]->va, ws_cu_error(r));
			load(files, listed, na, ignored, sizeof(ignored), &b);
			goto out;
		}
	}
	snprintf(msg, msglen, "allocations=%zu bytes=%zu copyMs=%.1f totalMs=%.1f", na, bytes, copy_ms,
		 ws_now_ms() - t0);
	ret = 0;
out:
	ws_registry_unlock();
	free(job.chunks);
	return ret;
}

struct index {
	size_t chunk_bytes;
	int nfiles;
	size_t nallocs, nchunks;
	struct {
		CUdeviceptr va;
		size_t size;
		int device;
	} *allocs;
	struct chunk *chunks;
};

static int read_index(int index_fd, struct index *ix, char *msg, size_t msglen)
{
	char line[512];
	size_t cap_a = 0, cap_c = 0;
	int version = 0;
	FILE *f;

	memset(ix, 0, sizeof(*ix));
	if (lseek(index_fd, 0, SEEK_SET) < 0 || !(f = fdopen(dup(index_fd), "r"))) {
		snprintf(msg, msglen, "PayloadMissing %s: %s", WS_INDEX, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long va;
		size_t size, len;
		long long off;
		int dev, file;
		char sha[80];

		if (sscanf(line, "warmstart-gpumem %d", &version) == 1 || sscanf(line, "chunk_bytes %zu", &ix->chunk_bytes) == 1 ||
		    sscanf(line, "files %d", &ix->nfiles) == 1)
			continue;
		if (sscanf(line, "alloc %llx %zu %d", &va, &size, &dev) == 3) {
			if (ix->nallocs == cap_a) {
				cap_a = cap_a ? cap_a * 2 : 64;
				ix->allocs = realloc(ix->allocs, cap_a * sizeof(*ix->allocs));
			}
			ix->allocs[ix->nallocs].va = va;
			ix->allocs[ix->nallocs].size = size;
			ix->allocs[ix->nallocs++].device = dev;
			continue;
		}
		if (sscanf(line, "chunk %llx %zu %d %lld %79s", &va, &len, &file, &off, sha) == 5 && strlen(sha) == 64 &&
		    file >= 0 && off >= 0) {
			if (ix->nchunks == cap_c) {
				cap_c = cap_c ? cap_c * 2 : 256;
				ix->chunks = realloc(ix->chunks, cap_c * sizeof(*ix->chunks));
			}
			struct chunk *c = &ix->chunks[ix->nchunks++];
			memset(c, 0, sizeof(*c));
			c->va = va;
			c->len = len;
			c->file = file;
			c->offset = off;
			memcpy(c->sha, sha, 65);
			continue;
		}
		fclose(f);
		snprintf(msg, msglen, "PayloadInvalid unreadable index line: %.80s", line);
		return -1;
	}
	fclose(f);
	if (version != 1 || ix->nfiles <= 0 || ix->nfiles > 64 || !ix->chunk_bytes) {
		snprintf(msg, msglen, "PayloadInvalid %s is not a version 1 index", WS_INDEX);
		return -1;
	}
	return 0;
}

/*
 * The index must describe exactly the allocations the program holds (same addresses and sizes),
 * every chunk must lie inside one, and every data file must be there and long enough: all checked
 * before any GPU memory is created.
 */
static int check_index(const struct ws_files *files, struct index *ix, struct ws_alloc **a, size_t na, char *msg,
		       size_t msglen)
{
	size_t covered = 0, total = 0;

	if (ix->nfiles != files->ndata) {
		snprintf(msg, msglen, "PayloadMissing the index names %d data files (data-0.bin ...), %d came with the request",
			 ix->nfiles, files->ndata);
		return -1;
	}
	if (ix->nallocs != na) {
		snprintf(msg, msglen, "PayloadMismatch the payload has %zu allocations, the process %zu", ix->nallocs, na);
		return -1;
	}
	for (size_t i = 0; i < na; i++) {
		size_t j;
		for (j = 0; j < ix->nallocs; j++)
			if (ix->allocs[j].va == a[i]->va && ix->allocs[j].size == a[i]->size)
				break;
		if (j == ix->nallocs) {
			snprintf(msg, msglen, "PayloadMismatch no payload for the allocation at 0x%llx (%zu bytes)", a[i]->va,
				 a[i]->size);
			return -1;
		}
		total += a[i]->size;
	}
	for (size_t c = 0; c < ix->nchunks; c++) {
		struct chunk *ch = &ix->chunks[c];
		size_t i;
		for (i = 0; i < na; i++)
			if (ch->va >= a[i]->va && ch->va + ch->len <= a[i]->va + a[i]->size)
				break;
		if (i == na || ch->file >= ix->nfiles || ch->len > ix->chunk_bytes) {
			snprintf(msg, msglen, "PayloadInvalid chunk at 0x%llx is outside the allocations", ch->va);
			return -1;
		}
		ch->ctx = a[i]->ctx;
		covered += ch->len;
	}
	if (covered != total) {
		snprintf(msg, msglen, "PayloadInvalid the chunks cover %zu of %zu bytes", covered, total);
		return -1;
	}
	for (int f = 0; f < ix->nfiles; f++) {
		char name[64];
		off_t need = 0;
		struct stat st;
		for (size_t c = 0; c < ix->nchunks; c++)
			if (ix->chunks[c].file == f && ix->chunks[c].offset + (off_t)ix->chunks[c].len > need)
				need = ix->chunks[c].offset + ix->chunks[c].len;
		snprintf(name, sizeof(name), "data-%d.bin", f);
		if (fstat(files->data[f], &st)) {
			snprintf(msg, msglen, "PayloadMissing %s: %s", name, strerror(errno));
			return -1;
		}
		if (st.st_size != need) {
			snprintf(msg, msglen, "PayloadInvalid %s has %lld bytes, the index says %lld", name,
				 (long long)st.st_size, (long long)need);
			return -1;
		}
	}
	return 0;
}

/* Under the registry lock. */
static int load(const struct ws_files *files, struct ws_alloc **a, size_t na, char *msg, size_t msglen,
		double *bytes_out)
{
	struct index ix;
	struct job job = { .files = files, .restoring = 1 };
	int ret = -1;
	size_t i;

	char *mapped_now = calloc(na ? na : 1, 1);

	*bytes_out = 0;
	if (!mapped_now) {
		snprintf(msg, msglen, "CopyFailed out of host memory");
		return -1;
	}
	if (read_index(files->index, &ix, msg, msglen) || check_index(files, &ix, a, na, msg, msglen))
		goto out;
	for (i = 0; i < na; i++) {
		CUresult r;
		if (a[i]->state == WS_MAPPED)
			continue;
		mapped_now[i] = 1;
		if ((r = ws_drv.cuCtxSetCurrent(a[i]->ctx)) || (r = ws_map_physical(a[i]))) {
			snprintf(msg, msglen, "%s cannot get %zu bytes of GPU memory back on GPU %d at 0x%llx: %s",
				 r == CUDA_ERROR_OUT_OF_MEMORY ? "OutOfMemory" : "CopyFailed", a[i]->size, a[i]->device,
				 a[i]->va, ws_cu_error(r));
			goto unmap;
		}
		*bytes_out += a[i]->size;
	}
	job.chunks = ix.chunks;
	job.nchunks = ix.nchunks;
	job.chunk_bytes = ix.chunk_bytes;
	job.nfiles = ix.nfiles;
	if (run_workers(&job)) {
		snprintf(msg, msglen, "%s", job.err);
		goto unmap;
	}
	ret = 0;
	goto out;
unmap:
	/* Nothing half-loaded stays: the program holds no GPU memory it could run on. */
	for (i = 0; i < na; i++)
		if (mapped_now[i])
			ws_unmap_physical(a[i]);
out:
	free(mapped_now);
	free(ix.allocs);
	free(ix.chunks);
	return ret;
}

int ws_payload_restore(const struct ws_files *files, char *msg, size_t msglen)
{
	double t0 = ws_now_ms(), bytes;
	size_t na;
	int ret;

	ws_registry_lock();
	na = ws_registry_list_locked(listed, WS_MAX_LISTED);
	ret = load(files, listed, na, msg, msglen, &bytes);
	ws_registry_unlock();
	if (ret == 0) {
		double ms = ws_now_ms() - t0;
		snprintf(msg, msglen, "allocations=%zu bytes=%.0f totalMs=%.1f GBps=%.2f", na, bytes, ms,
			 ms > 0 ? bytes / ms / 1e6 : 0);
	}
	return ret;
}
