/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ctl_request.c - libFuzzer target: the control socket's request
 * path, through the real server in daemon/ctl.c.
 *
 * ctl.c has no pure "bytes -> request or error reply" function (the
 * parsing is ctl_client_request(), static, fed by ctl_client_read()), so
 * this target runs the real thing: one event loop and one ctl server on a
 * socket in a private temporary directory, made once per process.  Each
 * input is one client: connect, send the input, shut down the write side
 * (so a request without '\n' takes the half-close path), run the loop
 * until the server has replied and closed.
 *
 * The handler stands in for main.c's on_ctl_request() (static there): it
 * has the same shape ("cmd" must be a string, "status" succeeds, anything
 * else is an error that echoes cmd back) with a canned status object.
 *
 * Checked besides the sanitizers (a violation aborts): the server
 * replies within CTL_FUZZ_REPLY_MS with exactly one line that is a JSON
 * object with a boolean "ok" (nothing at all to an empty request).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ev.h"
#include "log.h"
#include "util.h"

/* Well below libFuzzer's -timeout=2 and ctl.c's 2 s client deadline. */
#define CTL_FUZZ_REPLY_MS	1500
/* Replies here are small; ctl.c's client allows 1 MiB. */
#define CTL_FUZZ_REPLY_MAX	(64 * 1024)

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct client {
	int		 fd;
	char		 buf[CTL_FUZZ_REPLY_MAX];
	size_t		 len;
	bool		 done;
};

static struct ev_loop	*loop;
static struct ctl	*ctl;
static char		*dir;
static char		*sock_path;
static struct ev_timer	 deadline;
static struct client	 cl;

/* main.c on_ctl_request() with a canned "status". */
static json_t *
handler(const json_t *req, const struct ctl_peer *peer, void *arg)
{
	const char	*cmd;

	(void)peer;
	(void)arg;
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "request has no \"cmd\" string");
	if (strcmp(cmd, "status") == 0)
		return json_pack("{s:b, s:s, s:{s:s}}", "ok", 1, "version",
		    "fuzz", "device", "id", "SC-0001");
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
	    "unknown command", "cmd", cmd);
}

static void
cleanup(void)
{
	ctl_free(ctl);		/* unlinks the socket */
	ev_free(loop);
	(void)rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	log_init("fuzz_ctl_request", LOG_TARGET_QUIET);
	dir = xasprintf("%s/fleetgw-fuzz-ctl.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fatal("fuzz_ctl_request: mkdtemp %s", dir);
	sock_path = xasprintf("%s/ctl.sock", dir);
	loop = ev_new();
	if ((ctl = ctl_new(loop, sock_path, handler, NULL)) == NULL)
		fatalx("fuzz_ctl_request: cannot listen on %s", sock_path);
	atexit(cleanup);
	return 0;
}

static void
on_deadline(void *arg)
{
	(void)arg;
	fprintf(stderr, "fuzz_ctl_request: no reply within %d ms\n",
	    CTL_FUZZ_REPLY_MS);
	abort();
}

static void
on_reply(int fd, short revents, void *arg)
{
	struct client	*c = arg;
	ssize_t		 n;

	(void)revents;
	for (;;) {
		if (c->len == sizeof(c->buf)) {
			fprintf(stderr, "fuzz_ctl_request: reply longer than "
			    "%d bytes\n", CTL_FUZZ_REPLY_MAX);
			abort();
		}
		n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF, or ECONNRESET: the server closed with input unread */
		if (n == -1 && errno != ECONNRESET) {
			fprintf(stderr, "fuzz_ctl_request: recv: %s\n",
			    strerror(errno));
			abort();
		}
		c->done = true;
		ev_break(loop);
		return;
	}
}

static void
check_reply(const struct client *c)
{
	json_error_t	 jerr;
	json_t		*reply;
	const char	*nl;

	nl = memchr(c->buf, '\n', c->len);
	if (nl == NULL || (size_t)(nl - c->buf) + 1 != c->len) {
		fprintf(stderr, "fuzz_ctl_request: reply is not one line "
		    "(%zu bytes)\n", c->len);
		abort();
	}
	reply = json_loadb(c->buf, c->len - 1, JSON_REJECT_DUPLICATES, &jerr);
	if (reply == NULL || !json_is_object(reply) ||
	    !json_is_boolean(json_object_get(reply, "ok"))) {
		fprintf(stderr, "fuzz_ctl_request: bad reply: %.*s\n",
		    (int)c->len, c->buf);
		abort();
	}
	json_decref(reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un	 sun;
	size_t			 off = 0;
	ssize_t			 n;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)util_strlcpy(sun.sun_path, sock_path, sizeof(sun.sun_path));
	cl.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cl.fd == -1)
		fatal("fuzz_ctl_request: socket");
	if (connect(cl.fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("fuzz_ctl_request: connect %s", sock_path);
	/* fits the socket buffer whole (-max_len is a few KB) */
	while (off < size) {
		n = send(cl.fd, data + off, size - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fatal("fuzz_ctl_request: send");
		off += (size_t)n;
	}
	(void)shutdown(cl.fd, SHUT_WR);

	cl.len = 0;
	cl.done = false;
	if (ev_fd_add(loop, cl.fd, POLLIN, on_reply, &cl) == -1)
		fatalx("fuzz_ctl_request: ev_fd_add");
	ev_timer_init(&deadline, on_deadline, NULL);
	ev_timer_set(loop, &deadline, CTL_FUZZ_REPLY_MS);
	if (ev_run(loop) == -1)
		fatalx("fuzz_ctl_request: ev_run");
	ev_timer_stop(loop, &deadline);
	ev_fd_del(loop, cl.fd);
	(void)close(cl.fd);
	if (!cl.done)
		abort();
	/* a client that sends nothing gets nothing (ctl_client_read()) */
	if (size == 0) {
		if (cl.len != 0)
			abort();
		return 0;
	}
	check_reply(&cl);
	return 0;
}
