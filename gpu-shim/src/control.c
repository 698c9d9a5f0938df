/*
 * The control channel: a Unix stream socket at $WARMSTART_GPUMEM_DIR/warmstart-gpumem-<pid>.sock (pid
 * as the process sees it; default dir /tmp), served by one thread named "ws-gpumem". The directory
 * must exist wherever the process is restored, because CRIU binds the socket there again: /tmp is in
 * every image (a directory the process made itself would be gone in a fresh container).
 * The agent reaches it through /proc/<host pid>/root. One request per connection, one line each way:
 *
 *   STATUS                  -> OK state=running|released gate=open|closed allocations=N managedBytes=B
 *   CHECKPOINT  + files     -> close the gate, copy out, release the physical memory (gate stays closed)
 *   RESUME      + files     -> after a leave-running dump: map again, load, open the gate
 *   RESTORE     + files     -> after CRIU + the driver's restore: the same, from the image
 *   answers: "OK <figures>" or "ERR <Reason> <text>"
 *
 * "files" are open file descriptors passed with the request (SCM_RIGHTS), because the agent's image
 * store is not in the workload's mount namespace: the index first, then data-0.bin, data-1.bin, ...
 * (writable for CHECKPOINT, whose worker count is the number of data files; read-only otherwise).
 * Regular files only: a directory fd would let the process walk the node's store through "..".
 * Peers must be root (SO_PEERCRED uid 0); tests that run as another user may allow that one uid
 * with WARMSTART_GPUMEM_PEER_UID.
 *
 * Across CRIU: the listening socket is restored bound to the same path (CRIU re-creates the socket
 * file), and this thread, blocked in accept(), serves it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char sock_path[108];
static int last_dump_state; /* 0 nothing out, 1 memory out */

static const char *dir(void)
{
	const char *d = getenv("WARMSTART_GPUMEM_DIR");
	return d && *d ? d : "/tmp";
}

static int peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const char *extra = getenv("WARMSTART_GPUMEM_PEER_UID");

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return 0;
	return cred.uid == 0 || (extra && *extra && (uid_t)atol(extra) == cred.uid);
}

static void reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(int fd, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (send(fd, line, n, MSG_NOSIGNAL) < 0) {
		/* the agent went away; it will see no answer */
	}
}

/* Reads one line and the fds sent along (at most 1 + WS_MAX_FILES; more: -1). */
static int read_request(int fd, char *line, size_t len, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * (WS_MAX_FILES + 2))];
	struct iovec iov = { line, len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (int i = 0; i < k; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < WS_MAX_FILES + 2)
				fds[(*nfds)++] = got;
			else
				close(got);
		}
	}
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	return (mh.msg_flags & MSG_CTRUNC) || *nfds > WS_MAX_FILES + 1 ? -2 : 0;
}

/* The passed fds as payload files: the index and 1..WS_MAX_FILES data files, all regular files. */
static int as_files(const int *fds, int nfds, struct ws_files *files)
{
	struct stat st;

	if (nfds < 2 || nfds > WS_MAX_FILES + 1)
		return -1;
	for (int i = 0; i < nfds; i++)
		if (fstat(fds[i], &st) || !S_ISREG(st.st_mode))
			return -1;
	files->index = fds[0];
	files->ndata = nfds - 1;
	memcpy(files->data, fds + 1, sizeof(int) * files->ndata);
	return 0;
}

static void status(int fd)
{
	static struct ws_alloc *list[4096];
	size_t n, bytes = 0, out = 0;

	ws_registry_lock();
	n = ws_registry_list_locked(list, 4096);
	for (size_t i = 0; i < n; i++) {
		bytes += list[i]->size;
		if (list[i]->state == WS_RELEASED)
			out += list[i]->size;
	}
	ws_registry_unlock();
	reply(fd, "OK state=%s gate=%s allocations=%zu managedBytes=%zu releasedBytes=%zu pid=%d version=1",
	      last_dump_state ? "released" : "running", ws_gate_is_closed() ? "closed" : "open", n, bytes, out, getpid());
}

static double gate_timeout_s(void)
{
	const char *v = getenv("WARMSTART_GPUMEM_GATE_TIMEOUT_S");
	return v && atof(v) > 0 ? atof(v) : 30;
}

static void serve(int fd)
{
	char line[256], msg[1024];
	int fds[WS_MAX_FILES + 2], nfds = 0, r;
	struct ws_files files;

	/* read first, so that a refused client sees the answer rather than a broken pipe */
	r = read_request(fd, line, sizeof(line), fds, &nfds);
	if (r == -1) {
		reply(fd, "ERR InvalidRequest no request");
	} else if (!peer_allowed(fd)) {
		reply(fd, "ERR PermissionDenied only root may control the GPU memory of this process");
	} else if (r == -2) {
		reply(fd, "ERR InvalidRequest more than %d payload files", WS_MAX_FILES);
	} else if (!strcmp(line, "STATUS")) {
		status(fd);
	} else if (!strcmp(line, "CHECKPOINT") || !strcmp(line, "RESUME") || !strcmp(line, "RESTORE")) {
		double t0 = ws_now_ms();
		if (as_files(fds, nfds, &files)) {
			reply(fd, "ERR InvalidRequest %s needs the payload's files: the index, then 1 to %d data files", line,
			      WS_MAX_FILES);
		} else if (line[0] == 'C') {
			if (last_dump_state) {
				reply(fd, "ERR InvalidState the memory is already out; RESUME or RESTORE first");
			} else if (ws_gate_close(gate_timeout_s())) {
				reply(fd, "ERR GateTimeout a program thread stayed inside the driver for %.0f s", gate_timeout_s());
			} else if (ws_payload_checkpoint(&files, fd, msg, sizeof(msg))) {
				ws_gate_open();
				reply(fd, "ERR %s", msg);
			} else {
				last_dump_state = 1;
				ws_log("checkpoint: %s (gate closed for %.1f ms so far)\n", msg, ws_now_ms() - t0);
				reply(fd, "OK %s", msg);
			}
		} else if (!last_dump_state) {
			reply(fd, "ERR InvalidState the memory is in place; nothing to %s", line);
		} else if (ws_payload_restore(&files, msg, sizeof(msg))) {
			/* the gate stays closed: the program runs no CUDA work without its memory */
			reply(fd, "ERR %s", msg);
		} else {
			last_dump_state = 0;
			ws_gate_open();
			ws_log("%s: %s\n", line, msg);
			reply(fd, "OK %s", msg);
		}
	} else {
		reply(fd, "ERR InvalidRequest unknown command '%.40s'", line);
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void *loop(void *arg)
{
	int lfd = (int)(long)arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct timeval tv = { 10, 0 };
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			ws_log("control socket: accept: %s; the channel is closed\n", strerror(errno));
			return NULL;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(fd);
		close(fd);
	}
	return NULL;
}

static void cleanup(void)
{
	if (sock_path[0])
		unlink(sock_path);
}

static void start(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int lfd;

	mkdir(dir(), 0700);
	if (snprintf(sock_path, sizeof(sock_path), "%s/warmstart-gpumem-%d.sock", dir(), getpid()) >= (int)sizeof(sock_path)) {
		ws_log("WARMSTART_GPUMEM_DIR is too long for a socket path; no control channel\n");
		sock_path[0] = '\0';
		return;
	}
	unlink(sock_path);
	memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 4)) {
		ws_log("cannot listen on %s: %s; no control channel (the process cannot be checkpointed with its memory)\n",
		       sock_path, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		sock_path[0] = '\0';
		return;
	}
	chmod(sock_path, 0600);
	atexit(cleanup);
	/* The thread takes no signal of the program's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, loop, (void *)(long)lfd) == 0)
		pthread_setname_np(t, "ws-gpumem");
	else
		ws_log("cannot start the control thread\n");
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ws_log("managing GPU allocations of %zu MiB and more; control socket %s\n", ws_min_bytes() >> 20, sock_path);
}

void ws_control_start(void)
{
	pthread_once(&once, start);
}
