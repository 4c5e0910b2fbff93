/* SPDX-License-Identifier: MIT */
/*
 * test_ctl.c - the control socket, with a real socket in a temporary
 * directory.
 *
 * The server runs in the test's main thread inside a real event loop; the
 * clients run in a second thread and only record what they saw, so every
 * assertion happens in the main thread after the loop stopped.  The loop
 * stops when the client thread writes to a pipe, or after a guard
 * deadline (a failure).
 */
#include <criterion/criterion.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ev.h"
#include "log.h"
#include "util.h"

#define GUARD_MS	15000	/* a test taking longer is broken */
#define RECV_LIMIT_S	6	/* client side: longer than the server timeout */
#define BIG_REPLY	(600 * 1024)	/* beyond the socket buffers */
#define NCLIENTS	8	/* the server's table */
#define OUT_MAX		(BIG_REPLY + 4096)

struct fixture {
	struct ev_loop	*loop;
	struct ctl	*ctl;
	char		 dir[64];
	char		 path[128];
	int		 stop[2];
	struct ev_timer	 guard;
	bool		 guard_fired;
	int		 handled;
};

static struct fixture	fx;

/*
 * Echo the request and the peer's credentials; {"cmd":"big"} gets a long
 * reply, "null" gets NULL, "free" frees the server from inside its own
 * handler (what a reload that moves the socket does).
 */
static json_t *
handler(const json_t *req, const struct ctl_peer *peer, void *arg)
{
	struct fixture	*f = arg;
	const char	*cmd;
	json_t		*reply, *groups;
	char		*big;
	size_t		 i;

	f->handled++;
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd != NULL && strcmp(cmd, "null") == 0)
		return NULL;
	if (cmd != NULL && strcmp(cmd, "free") == 0) {
		ctl_free(f->ctl);
		f->ctl = NULL;
	}
	groups = json_array();
	for (i = 0; i < peer->ngroups; i++)
		json_array_append_new(groups,
		    json_integer((json_int_t)peer->groups[i]));
	reply = json_pack("{s:b, s:O, s:{s:I, s:I, s:I, s:o}}", "ok", 1,
	    "echo", (json_t *)req, "peer", "pid", (json_int_t)peer->pid, "uid",
	    (json_int_t)peer->uid, "gid", (json_int_t)peer->gid, "groups",
	    groups);
	if (cmd != NULL && strcmp(cmd, "big") == 0) {
		big = xmalloc(BIG_REPLY + 1);
		memset(big, 'x', BIG_REPLY);
		big[BIG_REPLY] = '\0';
		json_object_set_new(reply, "data", json_string(big));
		free(big);
	}
	return reply;
}

static void
on_stop(int fd, short revents, void *arg)
{
	char	c;

	(void)revents;
	(void)arg;
	(void)read(fd, &c, 1);
	ev_break(fx.loop);
}

static void
on_guard(void *arg)
{
	(void)arg;
	fx.guard_fired = true;
	ev_break(fx.loop);
}

static void
setup(void)
{
	memset(&fx, 0, sizeof(fx));
	log_init("test_ctl", LOG_TARGET_QUIET);
	util_strlcpy(fx.dir, "/tmp/test_ctl.XXXXXX", sizeof(fx.dir));
	cr_assert_not_null(mkdtemp(fx.dir));
	snprintf(fx.path, sizeof(fx.path), "%s/ctl.sock", fx.dir);
	fx.loop = ev_new();
	cr_assert_eq(pipe2(fx.stop, O_CLOEXEC | O_NONBLOCK), 0);
	cr_assert_eq(ev_fd_add(fx.loop, fx.stop[0], POLLIN, on_stop, NULL), 0);
	ev_timer_init(&fx.guard, on_guard, NULL);
}

static void
teardown(void)
{
	ctl_free(fx.ctl);
	ev_fd_del(fx.loop, fx.stop[0]);
	close(fx.stop[0]);
	close(fx.stop[1]);
	ev_free(fx.loop);
	unlink(fx.path);
	rmdir(fx.dir);
}

static void
start_server(void)
{
	fx.ctl = ctl_new(fx.loop, fx.path, handler, &fx);
	cr_assert_not_null(fx.ctl);
}

struct client_run {
	void	*(*fn)(void *);
	void	*arg;
};

static void *
client_main(void *arg)
{
	struct client_run	*run = arg;
	void			*rv;

	rv = run->fn(run->arg);
	(void)write(fx.stop[1], "x", 1);
	return rv;
}

/* Serve until fn, run in a client thread, returns. */
static void
serve_while(void *(*fn)(void *), void *arg)
{
	struct client_run	run = { fn, arg };
	pthread_t		tid;

	ev_timer_set(fx.loop, &fx.guard, GUARD_MS);
	cr_assert_eq(pthread_create(&tid, NULL, client_main, &run), 0);
	cr_assert_eq(ev_run(fx.loop), 0);
	pthread_join(tid, NULL);
	ev_timer_stop(fx.loop, &fx.guard);
	cr_assert(!fx.guard_fired, "test did not finish in %d ms", GUARD_MS);
}

/* Client helpers: blocking sockets with a receive limit. */

static int
raw_connect(void)
{
	struct sockaddr_un	sun;
	struct timeval		tv = { RECV_LIMIT_S, 0 };
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, fx.path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
raw_send(int fd, const char *buf, size_t len)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Read until EOF, error or limit; returns bytes read into out (NUL ended). */
static size_t
raw_read_all(int fd, char *out, size_t size)
{
	size_t	off = 0;
	ssize_t	n;

	while (off + 1 < size) {
		n = recv(fd, out + off, size - off - 1, 0);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	out[off] = '\0';
	return off;
}

/* Send a raw request on a new connection, read the whole answer. */
static char *
raw_exchange(const char *req, size_t len)
{
	char	*out = xmalloc(OUT_MAX);
	int	 fd;

	out[0] = '\0';
	if ((fd = raw_connect()) == -1)
		return out;
	(void)raw_send(fd, req, len);
	raw_read_all(fd, out, OUT_MAX);
	close(fd);
	return out;
}

/* {"ok":false,"error":...} with exactly this error, one line. */
static void
assert_error_reply(const char *out, const char *prefix)
{
	json_error_t	 jerr;
	json_t		*j;
	const char	*e;

	cr_assert(strlen(out) > 0 && out[strlen(out) - 1] == '\n',
	    "not one line: \"%s\"", out);
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1,
	    "more than one line: \"%s\"", out);
	j = json_loads(out, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", jerr.text, out);
	cr_assert(json_is_false(json_object_get(j, "ok")), "%s", out);
	e = json_string_value(json_object_get(j, "error"));
	cr_assert_not_null(e, "%s", out);
	cr_assert(strncmp(e, prefix, strlen(prefix)) == 0, "error \"%s\", "
	    "want \"%s...\"", e, prefix);
	json_decref(j);
}

TestSuite(ctl, .init = setup, .fini = teardown, .timeout = 30);

/* Echo through ctl_request(). */

struct echo_result {
	json_t	*reply;
	json_t	*reply_null;
};

static void *
echo_client(void *arg)
{
	struct echo_result	*r = arg;
	json_t			*req;

	req = json_pack("{s:s, s:i, s:s}", "cmd", "status", "n", 7, "plate",
	    "川A12345");
	r->reply = ctl_request(fx.path, req, 3000);
	json_decref(req);
	req = json_pack("{s:s}", "cmd", "null");
	r->reply_null = ctl_request(fx.path, req, 3000);
	json_decref(req);
	return NULL;
}

Test(ctl, echo)
{
	struct echo_result	 r = { NULL, NULL };
	json_t			*echo, *peer;
	struct stat		 st;

	start_server();
	serve_while(echo_client, &r);
	cr_assert_not_null(r.reply);
	cr_assert(json_is_true(json_object_get(r.reply, "ok")));
	echo = json_object_get(r.reply, "echo");
	cr_assert_str_eq(json_string_value(json_object_get(echo, "cmd")),
	    "status");
	cr_assert_eq(json_integer_value(json_object_get(echo, "n")), 7);
	cr_assert_str_eq(json_string_value(json_object_get(echo, "plate")),
	    "川A12345");
	cr_assert_eq(fx.handled, 2);
	/* The client thread is this process: its credentials came along. */
	peer = json_object_get(r.reply, "peer");
	cr_assert_eq(json_integer_value(json_object_get(peer, "pid")),
	    (json_int_t)getpid());
	cr_assert_eq(json_integer_value(json_object_get(peer, "uid")),
	    (json_int_t)geteuid());
	cr_assert_eq(json_integer_value(json_object_get(peer, "gid")),
	    (json_int_t)getegid());
	/* A handler that returns NULL still gets the client an answer. */
	cr_assert_not_null(r.reply_null);
	cr_assert(json_is_false(json_object_get(r.reply_null, "ok")));
	cr_assert_str_eq(json_string_value(json_object_get(r.reply_null,
	    "error")), "internal error");
	json_decref(r.reply);
	json_decref(r.reply_null);

	cr_assert_eq(stat(fx.path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0660, "mode %o", st.st_mode & 07777);
}

Test(ctl, mode_ignores_permissive_umask)
{
	struct stat	st;
	mode_t		old;

	old = umask(0);
	start_server();
	umask(old);
	cr_assert_eq(stat(fx.path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0660, "mode %o", st.st_mode & 07777);
	cr_assert_eq(umask(old), old, "umask not restored");
}

/* Oversize and garbage requests. */

struct bad_result {
	char	*oversize;
	char	*at_limit;
	char	*over_limit;
	char	*garbage;
	char	*array;
	char	*empty;
	char	*utf8;
	char	*dup;
	char	*cut_utf8;
	char	*halfclosed;
	json_t	*client_oversize;
};

static char *
padded_request(size_t total)
{
	/* {"cmd":"x","pad":"xxx..."}\n, total bytes including the newline */
	const char	*head = "{\"cmd\":\"x\",\"pad\":\"";
	const char	*tail = "\"}\n";
	char		*s = xmalloc(total + 1);
	size_t		 h = strlen(head), t = strlen(tail);

	memcpy(s, head, h);
	memset(s + h, 'x', total - h - t);
	memcpy(s + total - t, tail, t);
	s[total] = '\0';
	return s;
}

static void *
bad_client(void *arg)
{
	struct bad_result	*r = arg;
	char			*s;
	json_t			*req;
	int			 fd;

	s = xmalloc(2 * CTL_MAX_REQUEST);
	memset(s, '{', 2 * CTL_MAX_REQUEST);
	r->oversize = raw_exchange(s, 2 * CTL_MAX_REQUEST);
	free(s);
	s = padded_request(CTL_MAX_REQUEST);
	r->at_limit = raw_exchange(s, CTL_MAX_REQUEST);
	free(s);
	s = padded_request(CTL_MAX_REQUEST + 1);
	r->over_limit = raw_exchange(s, CTL_MAX_REQUEST + 1);
	free(s);
	r->garbage = raw_exchange("hello world\n", 12);
	r->array = raw_exchange("[1,2,3]\n", 8);
	r->empty = raw_exchange("\n", 1);
	r->utf8 = raw_exchange("{\"cmd\":\"\xff\xfe\"}\n", 13);
	r->dup = raw_exchange("{\"cmd\":\"a\",\"cmd\":\"b\"}\n", 22);
	/* The fuzzer's case: jansson's error text cuts the UTF-8 e-acute. */
	r->cut_utf8 = raw_exchange("{\"\\u00\xc3\xa9\"}\n", 11);

	/* No newline, but the client half-closes: the request counts. */
	r->halfclosed = xmalloc(OUT_MAX);
	r->halfclosed[0] = '\0';
	if ((fd = raw_connect()) != -1) {
		(void)raw_send(fd, "{\"cmd\":\"hc\"}", 12);
		shutdown(fd, SHUT_WR);
		raw_read_all(fd, r->halfclosed, OUT_MAX);
		close(fd);
	}

	/* ctl_request() refuses to send an oversize request at all. */
	s = xmalloc(CTL_MAX_REQUEST + 1);
	memset(s, 'y', CTL_MAX_REQUEST);
	s[CTL_MAX_REQUEST] = '\0';
	req = json_pack("{s:s}", "pad", s);
	r->client_oversize = ctl_request(fx.path, req, 3000);
	json_decref(req);
	free(s);
	return NULL;
}

Test(ctl, oversize_and_garbage)
{
	struct bad_result	r;
	json_t			*j;

	memset(&r, 0, sizeof(r));
	start_server();
	serve_while(bad_client, &r);

	assert_error_reply(r.oversize, "request longer than 4096 bytes");
	assert_error_reply(r.over_limit, "request longer than 4096 bytes");
	j = json_loads(r.at_limit, 0, NULL);
	cr_assert_not_null(j, "at limit: %.80s", r.at_limit);
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	assert_error_reply(r.garbage, "invalid JSON: ");
	assert_error_reply(r.array, "request is not a JSON object");
	assert_error_reply(r.empty, "invalid JSON: ");
	assert_error_reply(r.utf8, "invalid JSON: ");
	assert_error_reply(r.dup, "invalid JSON: ");
	assert_error_reply(r.cut_utf8, "invalid JSON: ");
	j = json_loads(r.halfclosed, 0, NULL);
	cr_assert_not_null(j, "half-closed: %s", r.halfclosed);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "echo"), "cmd")), "hc");
	json_decref(j);
	cr_assert_null(r.client_oversize);
	/* Only the well-formed requests reached the handler. */
	cr_assert_eq(fx.handled, 2);

	free(r.oversize);
	free(r.at_limit);
	free(r.over_limit);
	free(r.garbage);
	free(r.array);
	free(r.empty);
	free(r.utf8);
	free(r.dup);
	free(r.cut_utf8);
	free(r.halfclosed);
}

/* Concurrent clients, interleaved, and one more than the table holds. */

struct conc_result {
	int	 connected;
	char	*busy;
	char	*replies[NCLIENTS];
	json_t	*after;
};

static void *
conc_client(void *arg)
{
	struct conc_result	*r = arg;
	int			 fds[NCLIENTS], fd, i;
	char			 req[64];
	json_t			*j;

	for (i = 0; i < NCLIENTS; i++) {
		if ((fds[i] = raw_connect()) == -1)
			break;
		r->connected++;
		snprintf(req, sizeof(req), "{\"cmd\":\"c%d\"", i);
		(void)raw_send(fds[i], req, strlen(req));	/* half */
	}
	/* Every slot is taken now: the next client is turned away. */
	r->busy = xmalloc(OUT_MAX);
	r->busy[0] = '\0';
	if ((fd = raw_connect()) != -1) {
		raw_read_all(fd, r->busy, OUT_MAX);
		close(fd);
	}
	/* Finish the requests in reverse order. */
	for (i = r->connected - 1; i >= 0; i--) {
		(void)raw_send(fds[i], "}\n", 2);
		r->replies[i] = xmalloc(OUT_MAX);
		raw_read_all(fds[i], r->replies[i], OUT_MAX);
		close(fds[i]);
	}
	/* The slots are free again. */
	j = json_pack("{s:s}", "cmd", "after");
	r->after = ctl_request(fx.path, j, 3000);
	json_decref(j);
	return NULL;
}

Test(ctl, concurrent_clients)
{
	struct conc_result	 r;
	json_t			*j;
	char			 want[16];
	int			 i;

	memset(&r, 0, sizeof(r));
	start_server();
	serve_while(conc_client, &r);
	cr_assert_eq(r.connected, NCLIENTS);
	assert_error_reply(r.busy, "busy");
	for (i = 0; i < NCLIENTS; i++) {
		j = json_loads(r.replies[i], 0, NULL);
		cr_assert_not_null(j, "client %d: \"%s\"", i, r.replies[i]);
		snprintf(want, sizeof(want), "c%d", i);
		cr_expect_str_eq(json_string_value(json_object_get(
		    json_object_get(j, "echo"), "cmd")), want);
		json_decref(j);
		free(r.replies[i]);
	}
	cr_assert_not_null(r.after);
	cr_assert(json_is_true(json_object_get(r.after, "ok")));
	json_decref(r.after);
	free(r.busy);
}

/* A client that stops half-way is dropped; others are served meanwhile. */

struct slow_result {
	json_t		*meanwhile;
	bool		 silent_meanwhile;
	char		*slow;
	uint64_t	 slow_ms;
};

static void *
slow_client(void *arg)
{
	struct slow_result	*r = arg;
	uint64_t		 t0;
	char			 c;
	json_t			*j;
	int			 fd;

	if ((fd = raw_connect()) == -1)
		return NULL;
	t0 = util_mono_ms();
	(void)raw_send(fd, "{\"cmd\":", 7);

	j = json_pack("{s:s}", "cmd", "meanwhile");
	r->meanwhile = ctl_request(fx.path, j, 1000);
	json_decref(j);
	r->silent_meanwhile = recv(fd, &c, 1, MSG_DONTWAIT) == -1 &&
	    errno == EAGAIN;

	r->slow = xmalloc(OUT_MAX);
	raw_read_all(fd, r->slow, OUT_MAX);
	r->slow_ms = util_mono_ms() - t0;
	close(fd);
	return NULL;
}

Test(ctl, slow_client_times_out)
{
	struct slow_result	r;

	memset(&r, 0, sizeof(r));
	start_server();
	serve_while(slow_client, &r);
	cr_assert_not_null(r.meanwhile, "served nobody while a client hung");
	cr_assert(json_is_true(json_object_get(r.meanwhile, "ok")));
	cr_assert(r.silent_meanwhile, "slow client answered too early");
	cr_assert_not_null(r.slow);
	assert_error_reply(r.slow, "timeout");
	/* Dropped by the server's deadline, not by the client's limit. */
	cr_assert_geq(r.slow_ms, 1500);
	cr_assert_lt(r.slow_ms, RECV_LIMIT_S * 1000);
	json_decref(r.meanwhile);
	free(r.slow);
}

/* Replies larger than the socket buffer: POLLOUT, and stuck readers. */

struct big_result {
	json_t		*full;
	size_t		 stuck_len;
	bool		 stuck_complete;
	json_t		*meanwhile;
};

static void *
big_client(void *arg)
{
	struct big_result	*r = arg;
	const char		*req = "{\"cmd\":\"big\"}\n";
	struct timespec		 ts = { 3, 0 };
	char			*out;
	json_t			*j;
	int			 fd;

	j = json_pack("{s:s}", "cmd", "big");
	r->full = ctl_request(fx.path, j, 5000);
	json_decref(j);

	/* Ask for a big reply, then read nothing past the server timeout. */
	if ((fd = raw_connect()) == -1)
		return NULL;
	(void)raw_send(fd, req, strlen(req));
	j = json_pack("{s:s}", "cmd", "meanwhile");
	r->meanwhile = ctl_request(fx.path, j, 1000);
	json_decref(j);
	nanosleep(&ts, NULL);	/* being stuck is the behaviour tested */
	out = xmalloc(OUT_MAX);
	r->stuck_len = raw_read_all(fd, out, OUT_MAX);
	r->stuck_complete = r->stuck_len > 0 && out[r->stuck_len - 1] == '\n';
	free(out);
	close(fd);
	return NULL;
}

Test(ctl, big_replies_and_stuck_reader)
{
	struct big_result	 r;
	const char		*data;

	memset(&r, 0, sizeof(r));
	start_server();
	serve_while(big_client, &r);
	cr_assert_not_null(r.full);
	data = json_string_value(json_object_get(r.full, "data"));
	cr_assert_not_null(data);
	cr_assert_eq(strlen(data), BIG_REPLY);
	cr_assert_not_null(r.meanwhile, "served nobody while a reader hung");
	cr_assert(r.stuck_len > 0 && r.stuck_len < BIG_REPLY,
	    "stuck reader got %zu bytes", r.stuck_len);
	cr_assert(!r.stuck_complete);
	json_decref(r.full);
	json_decref(r.meanwhile);
}

/* Client side failures: nobody there, nobody answering. */

Test(ctl, request_without_server)
{
	json_t	*req = json_pack("{s:s}", "cmd", "status");

	cr_assert_null(ctl_request(fx.path, req, 500));
	cr_assert_null(ctl_request("/nonexistent/dir/ctl.sock", req, 500));
	json_decref(req);
}

Test(ctl, request_times_out)
{
	struct sockaddr_un	 sun;
	json_t			*req = json_pack("{s:s}", "cmd", "status");
	uint64_t		 t0;
	int			 fd;

	/* Listens, never accepts: connect works, no reply ever comes. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, fx.path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	t0 = util_mono_ms();
	cr_assert_null(ctl_request(fx.path, req, 300));
	cr_assert_geq(util_mono_ms() - t0, 250);
	close(fd);
	json_decref(req);
}

/* The socket file: stale ones replaced, others left alone. */

Test(ctl, replaces_stale_socket)
{
	struct sockaddr_un	sun;
	int			fd;

	/* A socket file nobody listens on, like after a crash. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, fx.path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), -1);
	cr_assert_eq(errno, ECONNREFUSED);
	close(fd);
	start_server();
	/* The path leads to a listener again (queued in its backlog). */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

Test(ctl, refuses_live_socket)
{
	struct ctl	*second;
	struct stat	 st0, st1;

	start_server();
	cr_assert_eq(stat(fx.path, &st0), 0);
	second = ctl_new(fx.loop, fx.path, handler, &fx);
	cr_assert_null(second);
	cr_assert_eq(stat(fx.path, &st1), 0);
	cr_assert_eq(st0.st_ino, st1.st_ino, "live socket was replaced");
}

Test(ctl, refuses_non_socket)
{
	struct stat	st;
	int		fd;

	fd = open(fx.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, "data", 4), 4);
	close(fd);
	cr_assert_null(ctl_new(fx.loop, fx.path, handler, &fx));
	cr_assert_eq(stat(fx.path, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 4);
}

Test(ctl, refuses_long_path_and_missing_dir)
{
	char	long_path[200];

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	cr_assert_null(ctl_new(fx.loop, long_path, handler, &fx));
	cr_assert_null(ctl_new(fx.loop, "/nonexistent/dir/ctl.sock", handler,
	    &fx));
}

Test(ctl, free_unlinks_own_socket_only)
{
	struct sockaddr_un	sun;
	int			fd;

	start_server();
	ctl_free(fx.ctl);
	fx.ctl = NULL;
	cr_assert_eq(access(fx.path, F_OK), -1, "socket left behind");
	cr_assert_eq(errno, ENOENT);

	/* Someone else's socket at the same path survives our ctl_free(). */
	start_server();
	unlink(fx.path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	util_strlcpy(sun.sun_path, fx.path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ctl_free(fx.ctl);
	fx.ctl = NULL;
	cr_assert_eq(access(fx.path, F_OK), 0, "foreign socket removed");
	close(fd);
	ctl_free(NULL);
}

/* Administrators: root, the daemon's own user, ctl.admin_group. */

/* A uid that is neither root, nor ours, nor (likely) anybody's. */
static uid_t
stranger_uid(void)
{
	uid_t	uid = 0x7ffff000;

	while (uid == geteuid() || getpwuid(uid) != NULL)
		uid++;
	return uid;
}

/* A gid no group has. */
static gid_t
stranger_gid(void)
{
	gid_t	gid = 0x7ffff000;

	while (getgrgid(gid) != NULL)
		gid++;
	return gid;
}

Test(ctl, admin_root_and_own_uid)
{
	struct ctl_peer	peer = { .pid = 1, .uid = 0,
	    .gid = 0 };

	cr_assert(ctl_peer_is_admin(&peer, ""));
	cr_assert(ctl_peer_is_admin(&peer, NULL));
	peer.uid = geteuid();
	peer.gid = stranger_gid();
	cr_assert(ctl_peer_is_admin(&peer, ""));
	cr_assert(ctl_peer_is_admin(&peer, "no-such-group-fleetgw"));
	cr_assert_not(ctl_peer_is_admin(NULL, ""));
}

Test(ctl, admin_stranger_refused)
{
	struct ctl_peer	 peer = { .pid = 1, .uid = stranger_uid(),
	    .gid = stranger_gid() };
	struct group	*gr;

	cr_assert_not(ctl_peer_is_admin(&peer, ""));
	cr_assert_not(ctl_peer_is_admin(&peer, NULL));
	cr_assert_not(ctl_peer_is_admin(&peer, "no-such-group-fleetgw"));
	gr = getgrgid(getegid());
	cr_assert_not_null(gr, "our own group has no name");
	cr_assert_not(ctl_peer_is_admin(&peer, gr->gr_name));
	/* What SO_PEERCRED failure leaves: nobody. */
	peer.uid = (uid_t)-1;
	peer.gid = (gid_t)-1;
	cr_assert_not(ctl_peer_is_admin(&peer, gr->gr_name));
}

Test(ctl, admin_by_primary_group)
{
	struct ctl_peer	 peer = { .pid = 1, .uid = stranger_uid(),
	    .gid = getegid() };
	struct group	*gr;
	char		 name[256];

	gr = getgrgid(getegid());
	cr_assert_not_null(gr, "our own group has no name");
	util_strlcpy(name, gr->gr_name, sizeof(name));
	/* An unknown user whose process runs with the group's gid. */
	cr_assert(ctl_peer_is_admin(&peer, name));
	peer.gid = stranger_gid();
	cr_assert_not(ctl_peer_is_admin(&peer, name));
}

/*
 * A user of the user database who is in a group only as a supplementary
 * member (listed in the group file, another primary group): found through
 * the user's groups even though the process's gid is another.
 */
Test(ctl, admin_by_supplementary_group)
{
	struct ctl_peer	 peer = { 0 };
	struct group	*gr;
	struct passwd	*pw;
	char		 group[256];
	char		**m;
	bool		 found = false;

	setgrent();
	while (!found && (gr = getgrent()) != NULL) {
		for (m = gr->gr_mem; *m != NULL; m++) {
			pw = getpwnam(*m);
			if (pw == NULL || pw->pw_uid == 0 ||
			    pw->pw_uid == geteuid() || pw->pw_gid == gr->gr_gid)
				continue;
			util_strlcpy(group, gr->gr_name, sizeof(group));
			peer.pid = 1;
			peer.uid = pw->pw_uid;
			peer.gid = pw->pw_gid;
			found = true;
			break;
		}
	}
	endgrent();
	if (!found)
		cr_skip_test("no user with a supplementary group on this system");
	cr_assert(ctl_peer_is_admin(&peer, group), "uid %ld in %s",
	    (long)peer.uid, group);
	cr_assert_not(ctl_peer_is_admin(&peer, ""));
}

/*
 * The process's supplementary groups (SO_PEERGROUPS) make a member: what
 * "setpriv --groups" or "sg" give a process the user database does not
 * know about, and what the kernel itself checked on the socket file.
 */
Test(ctl, in_group_by_process_groups)
{
	struct ctl_peer	 peer = { .pid = 1, .uid = stranger_uid(),
	    .gid = stranger_gid() };
	struct group	*gr;
	gid_t		 groups[3];
	char		 name[256];

	gr = getgrgid(getegid());
	cr_assert_not_null(gr, "our own group has no name");
	util_strlcpy(name, gr->gr_name, sizeof(name));
	cr_assert_not(ctl_peer_in_group(&peer, name));
	groups[0] = stranger_gid() + 1;
	groups[1] = stranger_gid() + 2;
	groups[2] = getegid();
	peer.groups = groups;
	peer.ngroups = 3;
	cr_assert(ctl_peer_in_group(&peer, name));
	cr_assert(ctl_peer_is_admin(&peer, name));
	/* Only as many as ngroups says. */
	peer.ngroups = 2;
	cr_assert_not(ctl_peer_in_group(&peer, name));
	peer.ngroups = 3;
	cr_assert_not(ctl_peer_in_group(&peer, ""));
	cr_assert_not(ctl_peer_in_group(&peer, NULL));
	cr_assert_not(ctl_peer_in_group(&peer, "no-such-group-fleetgw"));
	cr_assert_not(ctl_peer_in_group(NULL, name));
	/* Unknown credentials are nobody's, whatever the rest says. */
	peer.uid = (uid_t)-1;
	cr_assert_not(ctl_peer_in_group(&peer, name));
	/* Membership is not administration: root is not "in" a group. */
	peer.uid = 0;
	peer.gid = stranger_gid();
	peer.ngroups = 0;
	cr_assert_not(ctl_peer_in_group(&peer, "no-such-group-fleetgw"));
	cr_assert(ctl_peer_is_admin(&peer, "no-such-group-fleetgw"));
}

static int
gid_cmp(const void *a, const void *b)
{
	gid_t	x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

struct groups_result {
	json_t	*reply;
};

static void *
groups_client(void *arg)
{
	struct groups_result	*r = arg;
	json_t			*req;

	req = json_pack("{s:s}", "cmd", "status");
	r->reply = ctl_request(fx.path, req, 3000);
	json_decref(req);
	return NULL;
}

/* The server reads the client's supplementary groups at accept. */
Test(ctl, peer_groups_read)
{
	struct groups_result	 r = { NULL };
	json_t			*got;
	gid_t			*want, *have;
	int			 n, i;

	n = getgroups(0, NULL);
	cr_assert(n >= 0);
	want = xreallocarray(NULL, (size_t)n + 1, sizeof(*want));
	cr_assert_eq(getgroups(n, want), n);
	start_server();
	serve_while(groups_client, &r);
	cr_assert_not_null(r.reply);
	got = json_object_get(json_object_get(r.reply, "peer"), "groups");
	cr_assert(json_is_array(got));
	cr_assert_eq(json_array_size(got), (size_t)n, "%zu groups, want %d",
	    json_array_size(got), n);
	have = xreallocarray(NULL, (size_t)n + 1, sizeof(*have));
	for (i = 0; i < n; i++)
		have[i] = (gid_t)json_integer_value(json_array_get(got,
		    (size_t)i));
	qsort(want, (size_t)n, sizeof(*want), gid_cmp);
	qsort(have, (size_t)n, sizeof(*have), gid_cmp);
	for (i = 0; i < n; i++)
		cr_expect_eq(have[i], want[i], "group %d: %ld, want %ld", i,
		    (long)have[i], (long)want[i]);
	free(want);
	free(have);
	json_decref(r.reply);
}

static void *
free_client(void *arg)
{
	struct groups_result	*r = arg;
	json_t			*req;

	req = json_pack("{s:s}", "cmd", "free");
	r->reply = ctl_request(fx.path, req, 3000);
	json_decref(req);
	return NULL;
}

/*
 * ctl_free() from inside the handler (a ctl "reload" that moves the
 * socket): the client still gets its reply, then the server is gone.
 */
Test(ctl, free_inside_handler)
{
	struct groups_result	r = { NULL };

	start_server();
	serve_while(free_client, &r);
	cr_assert_null(fx.ctl);
	cr_assert_not_null(r.reply, "no reply from a server freed in its "
	    "handler");
	cr_assert(json_is_true(json_object_get(r.reply, "ok")));
	cr_assert_eq(access(fx.path, F_OK), -1, "socket left behind");
	json_decref(r.reply);
}

/* A group of the system other than gid, or NULL. */
static struct group *
other_group(gid_t gid)
{
	struct group	*gr;

	setgrent();
	while ((gr = getgrent()) != NULL)
		if (gr->gr_gid != gid)
			break;
	endgrent();
	return gr;
}

/* The socket file goes to the inspectors' group; mode stays 0660. */
Test(ctl, set_group)
{
	struct stat	 st;
	struct group	*gr;
	char		 name[256];
	gid_t		 gid;

	start_server();
	gr = getgrgid(getegid());
	cr_assert_not_null(gr, "our own group has no name");
	util_strlcpy(name, gr->gr_name, sizeof(name));
	cr_assert_eq(ctl_set_group(fx.ctl, name), 0);
	cr_assert_eq(stat(fx.path, &st), 0);
	cr_assert_eq(st.st_gid, getegid());

	/* A group that does not exist: nothing changes. */
	cr_assert_eq(ctl_set_group(fx.ctl, "no-such-group-fleetgw"), -1);
	cr_assert_eq(stat(fx.path, &st), 0);
	cr_assert_eq(st.st_gid, getegid());

	if ((gr = other_group(getegid())) == NULL)
		cr_skip_test("no second group on this system");
	util_strlcpy(name, gr->gr_name, sizeof(name));
	gid = gr->gr_gid;
	if (geteuid() == 0) {
		cr_assert_eq(ctl_set_group(fx.ctl, name), 0);
		cr_assert_eq(stat(fx.path, &st), 0);
		cr_assert_eq(st.st_gid, gid);
		cr_assert_eq(st.st_mode & 07777, 0660, "mode %o",
		    st.st_mode & 07777);
		/* "" gives it back to the daemon's group. */
		cr_assert_eq(ctl_set_group(fx.ctl, ""), 0);
		cr_assert_eq(stat(fx.path, &st), 0);
		cr_assert_eq(st.st_gid, getegid());
	} else {
		/* Not root: only groups we are in; a refusal keeps it. */
		(void)ctl_set_group(fx.ctl, name);
		cr_assert_eq(stat(fx.path, &st), 0);
		cr_assert(st.st_gid == getegid() || st.st_gid == gid);
		cr_assert_eq(st.st_mode & 07777, 0660);
	}
}
