/* SPDX-License-Identifier: MIT */
/*
 * test_elm327.c - the ELM327 driver against a scripted fake adapter.
 *
 * The fake adapter lives in the test process, on the same ev loop as the
 * driver: it holds the master side of a real pty (or the accepted end of
 * a loopback TCP connection), reads the commands the driver writes, and
 * answers them like an ELM327 or one of its clones would.  obd_drv_state()
 * and obd_drv_reply() are defined here as recorders, so the reader
 * (obd.c) is not linked.  Every wait is on a condition with a deadline.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ev.h"
#include "isotp.h"
#include "log.h"
#include "obd.h"
#include "obd_drv.h"
#include "obd_testdata.h"
#include "util.h"

#define TMO_MS		300	/* the driver's command timeout here */
#define WAIT_MS		8000	/* generous deadline for any condition */
#define RETRY_MIN_MS	50
#define RETRY_MAX_MS	200
#define MAX_STATES	128
#define MAX_REPLIES	128
#define MSG_MAX		128
#define FAKE_OUT_MAX	(128 * 1024)
#define FAKE_MAX_CMDS	512
#define FAKE_CMD_LEN	48
#define FAKE_MAX_AT	16
#define FAKE_MAX_DATA	64
#define TX_MAX		128
#define TX_LINE		1024
#define ID29(x)		((uint32_t)(x) | ISOTP_ID_EFF)
#define BANNER		"\r\rELM327 v1.5\r\r>"

/* ---- recorders (obd.c's side of obd_drv.h) ----------------------------- */

struct rec_reply {
	enum obd_drv_result result;
	size_t		 nmsg;
	uint32_t	 id[OBD_DRV_MAX_MSGS];
	uint8_t		 data[OBD_DRV_MAX_MSGS][MSG_MAX];
	size_t		 len[OBD_DRV_MAX_MSGS];
	char		 text[64];
};

struct answer {
	const char	*text;		/* NULL: never answered */
	size_t		 len;
	int		 delay_ms;
};

struct at_override {
	const char	*cmd;		/* normalised: "ATDPN" */
	const char	*reply;		/* NULL: never answered */
};

/* One transcript command with its answers, replayed in order. */
struct tx_entry {
	char		 cmd[FAKE_CMD_LEN];
	char		*reply[8];
	size_t		 len[8];
	int		 n;
	int		 next;
};

struct fake {
	int		 fd;		/* pty master or TCP socket; -1 none */
	int		 slave;		/* the test's slave fd, -1 none */
	char		 name[64];	/* slave path */
	bool		 echo;
	char		 cbuf[256];
	size_t		 clen;
	char		 cmds[FAKE_MAX_CMDS][FAKE_CMD_LEN];
	int		 ncmds;
	char		 out[FAKE_OUT_MAX];
	size_t		 olen;
	/* behaviour */
	bool		 mute_all;	/* answers nothing, not even ATZ */
	bool		 mute_data;	/* answers no OBD request */
	bool		 keep_echo;	/* ignores ATE0 */
	bool		 quirky;	/* lower case, NULs after CRs */
	const char	*rv_reply;	/* NULL: "12.6V\r\r>" */
	int		 deaf_after_atz_ms;
	uint64_t	 deaf_until;
	const char	*resync_late;	/* written before the resync answer */
	const char	*resync_answer;	/* NULL: "?\r\r>" */
	int		 resync_delay_ms; /* of the answer, after the late */
	bool		 sequential;	/* no answer before a delayed one */
	char		 deferred[256];	/* a command waiting for that */
	size_t		 deferred_len;
	struct at_override at[FAKE_MAX_AT];
	int		 nat;
	struct answer	 data[FAKE_MAX_DATA];
	int		 ndata;
	int		 idata;
	struct ev_timer	 delay_timer;
	const char	*delayed;
	size_t		 delayed_len;
	int		 delayed_written;
	struct tx_entry	*tx;
	int		 ntx;
};

static struct {
	struct ev_loop	*loop;
	void		*drv;
	struct obd_opts	 opts;
	bool		 in_request;
	bool		 stop_in_reply;
	enum obd_state	 state[MAX_STATES];
	char		 why[MAX_STATES][160];
	int		 nstates;
	struct rec_reply reply[MAX_REPLIES];
	int		 nreplies;
	bool		 (*cond)(void);
	uint64_t	 want;
	const char	*want_str;
	struct ev_timer	 deadline;
	struct fake	 fk;
	int		 lfd;		/* TCP listener, -1 none */
	char		 tmpdir[64];
	char		 link[128];	/* symlink to the pty, "" none */
	int		 log_fd;
	int		 saved_stderr;
} h;

#define H_OBD	((struct obd *)(void *)&h)

/* Not obd_state_name(): that would link obd.o and its obd_drv_*(). */
static const char *
state_name(enum obd_state st)
{
	static const char *const names[] = { "off", "down", "init",
	    "no_ecu", "up" };

	return (size_t)st < NELEM(names) ? names[st] : "?";
}

void
obd_drv_state(struct obd *o, enum obd_state st, const char *why)
{
	cr_assert_eq(o, H_OBD);
	cr_assert(!h.in_request, "obd_drv_state() called inside request()");
	cr_assert_lt(h.nstates, MAX_STATES);
	h.state[h.nstates] = st;
	util_strlcpy(h.why[h.nstates], why, sizeof(h.why[0]));
	h.nstates++;
}

void
obd_drv_reply(struct obd *o, const struct obd_drv_reply *r)
{
	struct rec_reply *rr;
	size_t i;

	cr_assert_eq(o, H_OBD);
	cr_assert(!h.in_request, "obd_drv_reply() called inside request()");
	cr_assert_lt(h.nreplies, MAX_REPLIES);
	cr_assert_leq(r->nmsg, OBD_DRV_MAX_MSGS);
	rr = &h.reply[h.nreplies++];
	memset(rr, 0, sizeof(*rr));
	rr->result = r->result;
	rr->nmsg = r->nmsg;
	for (i = 0; i < r->nmsg; i++) {
		cr_assert_leq(r->msg[i].len, MSG_MAX);
		rr->id[i] = r->msg[i].id;
		rr->len[i] = r->msg[i].len;
		memcpy(rr->data[i], r->msg[i].data, r->msg[i].len);
	}
	if (r->text != NULL)
		util_strlcpy(rr->text, r->text, sizeof(rr->text));
	if (h.stop_in_reply) {
		obd_drv_elm327.stop(h.drv);
		h.drv = NULL;
	}
}

/* ---- the fake adapter --------------------------------------------------- */

static void	fake_cb(int, short, void *);

static void
fake_flush(void)
{
	struct fake *f = &h.fk;
	ssize_t n;

	while (f->olen > 0 && f->fd != -1) {
		n = write(f->fd, f->out, f->olen);
		if (n > 0) {
			memmove(f->out, f->out + n, f->olen - (size_t)n);
			f->olen -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		f->olen = 0;	/* peer gone */
		break;
	}
	if (f->fd != -1)
		(void)ev_fd_mod(h.loop, f->fd,
		    f->olen > 0 ? POLLIN | POLLOUT : POLLIN);
}

static void
fake_raw(const char *s, size_t len)
{
	struct fake *f = &h.fk;

	cr_assert_leq(f->olen + len, sizeof(f->out));
	memcpy(f->out + f->olen, s, len);
	f->olen += len;
	fake_flush();
}

/* An answer, with the clone quirks applied when asked for. */
static void
fake_say(const char *s, size_t len)
{
	char buf[2 * 1024];
	size_t i, n = 0;

	if (!h.fk.quirky || len > sizeof(buf) / 2) {
		fake_raw(s, len);
		return;
	}
	for (i = 0; i < len; i++) {
		buf[n++] = (char)tolower((unsigned char)s[i]);
		if (s[i] == '\r')
			buf[n++] = '\0';
	}
	fake_raw(buf, n);
}

static void
fake_says(const char *s)
{
	fake_say(s, strlen(s));
}

static void
fake_close(void)
{
	struct fake *f = &h.fk;

	if (f->fd != -1) {
		ev_fd_del(h.loop, f->fd);
		(void)close(f->fd);
		f->fd = -1;
	}
	f->olen = 0;
	f->clen = 0;
}

static void
fake_attach(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	cr_assert_neq(fl, -1);
	cr_assert_eq(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
	h.fk.fd = fd;
	h.fk.echo = true;	/* an ELM327 after power-up */
	cr_assert_eq(ev_fd_add(h.loop, fd, POLLIN, fake_cb, NULL), 0);
}

static void	fake_command(const char *, size_t);

static void
fake_delay_cb(void *arg)
{
	struct fake *f = &h.fk;
	char cmd[sizeof(f->deferred)];
	size_t len = f->deferred_len;

	(void)arg;
	if (f->delayed != NULL)
		fake_say(f->delayed, f->delayed_len);
	f->delayed = NULL;
	f->delayed_written++;
	if (len > 0) {
		memcpy(cmd, f->deferred, len);
		f->deferred_len = 0;
		fake_command(cmd, len);
	}
}

static bool
is_at(const char *norm)
{
	return strncmp(norm, "AT", 2) == 0;
}

/* The default ELM327 v1.5 answers to AT commands. */
/* After ATZ: echo on, and a slow clone ignores commands for a while. */
static void
fake_reset_done(void)
{
	struct fake *f = &h.fk;

	f->echo = true;
	if (f->deaf_after_atz_ms > 0)
		f->deaf_until = util_mono_ms() +
		    (uint64_t)f->deaf_after_atz_ms;
}

static void
fake_at(const char *norm)
{
	struct fake *f = &h.fk;

	if (strcmp(norm, "ATZ") == 0) {
		fake_says(BANNER);
		fake_reset_done();
	} else if (strcmp(norm, "ATE0") == 0) {
		fake_says("OK\r\r>");
		f->echo = f->keep_echo;
	} else if (strcmp(norm, "ATI") == 0)
		fake_says("ELM327 v1.5\r\r>");
	else if (strcmp(norm, "ATRV") == 0)
		fake_says(f->rv_reply != NULL ? f->rv_reply : "12.6V\r\r>");
	else if (strcmp(norm, "ATDPN") == 0)
		fake_says("A6\r\r>");
	else if (strcmp(norm, "ATL0") == 0 || strcmp(norm, "ATS0") == 0 ||
	    strcmp(norm, "ATH1") == 0 || strcmp(norm, "ATH0") == 0 ||
	    strcmp(norm, "ATSP0") == 0)
		fake_says("OK\r\r>");
	else
		fake_says("?\r\r>");
}

static void
fake_data(void)
{
	struct fake *f = &h.fk;
	struct answer *a;

	if (f->mute_data)
		return;
	if (f->idata >= f->ndata) {
		fake_says("NO DATA\r\r>");
		return;
	}
	a = &f->data[f->idata++];
	if (a->text == NULL)
		return;
	if (a->delay_ms > 0) {
		f->delayed = a->text;
		f->delayed_len = a->len;
		ev_timer_set(h.loop, &f->delay_timer, (uint64_t)a->delay_ms);
		return;
	}
	fake_say(a->text, a->len);
}

static void
fake_command(const char *raw, size_t len)
{
	struct fake *f = &h.fk;
	char norm[FAKE_CMD_LEN];
	const char *p;
	size_t i, n = 0, dels = 0;
	int k;

	/* a real adapter answers in order: this one is still busy */
	if (f->sequential && f->delayed != NULL) {
		cr_assert_eq(f->deferred_len, 0, "two commands at once");
		cr_assert_leq(len, sizeof(f->deferred));
		memcpy(f->deferred, raw, len);
		f->deferred_len = len;
		return;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c == 0x7f) {
			dels++;
			if (n + 5 < sizeof(norm)) {
				memcpy(norm + n, "<DEL>", 5);
				n += 5;
			}
		} else if (c != ' ' && n + 1 < sizeof(norm))
			norm[n++] = (char)toupper(c);
	}
	norm[n] = '\0';
	cr_assert_lt(f->ncmds, FAKE_MAX_CMDS);
	util_strlcpy(f->cmds[f->ncmds++], norm, FAKE_CMD_LEN);
	if (f->mute_all || util_mono_ms() < f->deaf_until)
		return;
	for (k = 0; k < f->ntx; k++) {
		struct tx_entry *t = &f->tx[k];

		if (strcmp(t->cmd, norm) != 0)
			continue;
		/* the recorded bytes carry their own echo */
		fake_raw(t->reply[t->next], t->len[t->next]);
		if (t->next + 1 < t->n)
			t->next++;
		if (strcmp(norm, "ATZ") == 0)
			f->echo = true;
		else if (strcmp(norm, "ATE0") == 0)
			f->echo = false;
		return;
	}
	if (f->echo) {
		fake_raw(raw, len);
		fake_raw("\r", 1);
	}
	if (dels > 0 && dels == len) {
		if (f->resync_late != NULL)
			fake_says(f->resync_late);
		p = f->resync_answer != NULL ? f->resync_answer : "?\r\r>";
		if (f->resync_delay_ms > 0) {
			f->delayed = p;
			f->delayed_len = strlen(p);
			ev_timer_set(h.loop, &f->delay_timer,
			    (uint64_t)f->resync_delay_ms);
		} else
			fake_says(p);
		return;
	}
	for (k = 0; k < f->nat; k++)
		if (strcmp(f->at[k].cmd, norm) == 0) {
			if (f->at[k].reply != NULL)
				fake_says(f->at[k].reply);
			if (strcmp(norm, "ATZ") == 0)
				fake_reset_done();
			return;
		}
	if (is_at(norm))
		fake_at(norm);
	else
		fake_data();
}

static void
fake_cb(int fd, short revents, void *arg)
{
	struct fake *f = &h.fk;
	char buf[512];
	ssize_t n, i;

	(void)arg;
	if (revents & POLLOUT)
		fake_flush();
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = read(fd, buf, sizeof(buf));
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		fake_close();	/* the driver closed the TCP connection */
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] == '\r') {
			fake_command(f->cbuf, f->clen);
			f->clen = 0;
		} else if (buf[i] != '\n' && f->clen < sizeof(f->cbuf))
			f->cbuf[f->clen++] = buf[i];
	}
}

static void
fake_answer_n(const char *text, size_t len, int delay_ms)
{
	struct fake *f = &h.fk;

	cr_assert_lt(f->ndata, FAKE_MAX_DATA);
	f->data[f->ndata].text = text;
	f->data[f->ndata].len = len;
	f->data[f->ndata].delay_ms = delay_ms;
	f->ndata++;
}

static void
fake_answer(const char *text)
{
	fake_answer_n(text, text != NULL ? strlen(text) : 0, 0);
}

static void
fake_override(const char *cmd, const char *reply)
{
	struct fake *f = &h.fk;

	cr_assert_lt(f->nat, FAKE_MAX_AT);
	f->at[f->nat].cmd = cmd;
	f->at[f->nat].reply = reply;
	f->nat++;
}

static int
fake_count(const char *cmd)
{
	int i, n = 0;

	for (i = 0; i < h.fk.ncmds; i++)
		if (strcmp(h.fk.cmds[i], cmd) == 0)
			n++;
	return n;
}

/* Index of the first cmd at or after from, or -1. */
static int
fake_find(const char *cmd, int from)
{
	int i;

	for (i = from; i < h.fk.ncmds; i++)
		if (strcmp(h.fk.cmds[i], cmd) == 0)
			return i;
	return -1;
}

/* A pty whose master is the fake adapter; returns the slave path. */
static const char *
pty_new(void)
{
	struct termios tio;
	int m, s;

	cr_assert_eq(openpty(&m, &s, h.fk.name, NULL, NULL), 0,
	    "openpty: %s", strerror(errno));
	/* no echo from the line discipline before the driver sets raw */
	cr_assert_eq(tcgetattr(s, &tio), 0);
	cfmakeraw(&tio);
	cr_assert_eq(tcsetattr(s, TCSANOW, &tio), 0);
	(void)fcntl(m, F_SETFD, FD_CLOEXEC);
	(void)fcntl(s, F_SETFD, FD_CLOEXEC);
	h.fk.slave = s;
	fake_attach(m);
	return h.fk.name;
}

static void
pty_close(void)
{
	fake_close();
	if (h.fk.slave != -1) {
		(void)close(h.fk.slave);
		h.fk.slave = -1;
	}
}

/* ---- harness ------------------------------------------------------------ */

static void
on_prepare(void *arg)
{
	(void)arg;
	if (h.cond != NULL && h.cond())
		ev_break(h.loop);
}

static void
on_deadline(void *arg)
{
	(void)arg;
	ev_break(h.loop);
}

/* Runs the loop until cond() holds or timeout_ms passed; returns cond(). */
static bool
wait_for(bool (*cond)(void), uint64_t want, uint64_t timeout_ms)
{
	h.want = want;
	if (cond())
		return true;
	h.cond = cond;
	ev_timer_set(h.loop, &h.deadline, timeout_ms);
	(void)ev_run(h.loop);
	ev_timer_stop(h.loop, &h.deadline);
	h.cond = NULL;
	return cond();
}

static bool
never(void)
{
	return false;
}

/* Runs the loop for ms (for "nothing more happens" checks). */
static void
run_for(uint64_t ms)
{
	(void)wait_for(never, 0, ms);
}

static enum obd_state
last_state(void)
{
	return h.nstates > 0 ? h.state[h.nstates - 1] : OBD_OFF;
}

static bool
cond_state(void)
{
	return last_state() == (enum obd_state)h.want;
}

static bool
cond_nstates(void)
{
	return (uint64_t)h.nstates >= h.want;
}

static bool
cond_replies(void)
{
	return (uint64_t)h.nreplies >= h.want;
}

static bool
cond_cmd(void)
{
	return (uint64_t)fake_count(h.want_str) >= h.want;
}

static bool
cond_delayed(void)
{
	return (uint64_t)h.fk.delayed_written >= h.want;
}

static bool
cond_some_voltage(void)
{
	return !isnan(obd_drv_elm327.voltage(h.drv));
}

/* Occurrences of needle in the captured log. */
static int
log_count(const char *needle)
{
	static char buf[1 << 18];
	const char *p;
	ssize_t n;
	int count = 0;

	fflush(stderr);
	if ((n = pread(h.log_fd, buf, sizeof(buf) - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		count++;
	return count;
}

static bool
cond_log(void)
{
	return (uint64_t)log_count(h.want_str) >= h.want;
}

static void
wait_state(enum obd_state st)
{
	cr_assert(wait_for(cond_state, st, WAIT_MS),
	    "state %s, want %s (%s)", state_name(last_state()),
	    state_name(st), h.nstates > 0 ?
	    h.why[h.nstates - 1] : "");
}

static void
wait_cmd(const char *cmd, int n)
{
	h.want_str = cmd;
	cr_assert(wait_for(cond_cmd, (uint64_t)n, WAIT_MS),
	    "%s sent %d times, want %d", cmd, fake_count(cmd), n);
}

static void
wait_log(const char *needle, int n)
{
	h.want_str = needle;
	cr_assert(wait_for(cond_log, (uint64_t)n, WAIT_MS),
	    "\"%s\" logged %d times, want %d", needle, log_count(needle), n);
}

static void
drv_start_opts(const char *device, int baud, uint32_t timeout_ms)
{
	memset(&h.opts, 0, sizeof(h.opts));
	h.opts.driver = OBD_DRIVER_ELM327;
	h.opts.device = device;
	h.opts.baud = baud;
	h.opts.timeout_ms = timeout_ms;
	h.opts.retry_min_ms = RETRY_MIN_MS;
	h.opts.retry_max_ms = RETRY_MAX_MS;
	h.drv = obd_drv_elm327.start(h.loop, &h.opts, H_OBD);
	cr_assert_not_null(h.drv);
}

static void
drv_start(const char *device)
{
	drv_start_opts(device, 38400, TMO_MS);
}

/* A driver on a fresh pty, ready for requests. */
static void
start_ready(void)
{
	drv_start(pty_new());
	wait_state(OBD_NO_ECU);
}

static size_t
hex_bytes(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		cr_assert_lt(n, max);
		cr_assert_eq(sscanf(hex, "%2x", &b), 1, "bad hex %s", hex);
		out[n++] = (uint8_t)b;
		hex += 2;
	}
	return n;
}

/* Sends one request and waits for its reply. */
static const struct rec_reply *
request_wait(const char *hex, uint64_t timeout_ms)
{
	uint8_t req[8];
	size_t len = hex_bytes(hex, req, sizeof(req));
	int before = h.nreplies, rc;

	h.in_request = true;
	rc = obd_drv_elm327.request(h.drv, req, len);
	h.in_request = false;
	cr_assert_eq(rc, 0, "request %s refused", hex);
	cr_assert_eq(h.nreplies, before, "reply delivered inside request()");
	cr_assert(wait_for(cond_replies, (uint64_t)before + 1, timeout_ms),
	    "no reply to %s", hex);
	cr_assert_eq(h.nreplies, before + 1, "more than one reply to %s",
	    hex);
	return &h.reply[before];
}

static const struct rec_reply *
request(const char *hex)
{
	return request_wait(hex, WAIT_MS);
}

static void
assert_msg(const struct rec_reply *r, size_t i, uint32_t id,
    const char *hex)
{
	uint8_t want[MSG_MAX];
	size_t n = hex_bytes(hex, want, sizeof(want));

	cr_assert_lt(i, r->nmsg, "message %zu of %zu", i, r->nmsg);
	cr_assert_eq(r->id[i], id, "id %x, want %x", r->id[i], id);
	cr_assert_eq(r->len[i], n, "len %zu, want %zu", r->len[i], n);
	cr_assert_arr_eq(r->data[i], want, n);
}

static void
assert_ok1(const struct rec_reply *r, uint32_t id, const char *hex)
{
	cr_assert_eq(r->result, OBD_DRV_OK, "result %d (%s)", r->result,
	    r->text);
	cr_assert_eq(r->nmsg, 1);
	assert_msg(r, 0, id, hex);
}

/* The first request: the search, then ATDPN. */
static void
warm_up(void)
{
	fake_answer("SEARCHING...\r7E8 06 41 00 BE 3F A8 13 \r\r>");
	assert_ok1(request("0100"), 0x7e8, "41 00 BE 3F A8 13");
	wait_cmd("ATDPN", 1);
}

static void
setup(void)
{
	char path[] = "/tmp/test_elm327.XXXXXX";

	memset(&h, 0, sizeof(h));
	h.fk.fd = -1;
	h.fk.slave = -1;
	h.lfd = -1;
	h.saved_stderr = -1;
	/* capture the log to count lines; unlinked at once */
	h.log_fd = mkstemp(path);
	cr_assert_geq(h.log_fd, 0);
	(void)unlink(path);
	fflush(stderr);
	h.saved_stderr = dup(STDERR_FILENO);
	(void)dup2(h.log_fd, STDERR_FILENO);
	log_init("fleetgwd", LOG_TARGET_QUIET);
	log_setverbose(1);
	h.loop = ev_new();
	ev_prepare_add(h.loop, on_prepare, NULL);
	ev_timer_init(&h.deadline, on_deadline, NULL);
	ev_timer_init(&h.fk.delay_timer, fake_delay_cb, NULL);
}

static void
teardown(void)
{
	int i, j;

	if (h.drv != NULL)
		obd_drv_elm327.stop(h.drv);
	h.drv = NULL;
	pty_close();
	if (h.lfd != -1) {
		ev_fd_del(h.loop, h.lfd);
		(void)close(h.lfd);
	}
	if (h.link[0] != '\0')
		(void)unlink(h.link);
	if (h.tmpdir[0] != '\0')
		(void)rmdir(h.tmpdir);
	for (i = 0; i < h.fk.ntx; i++)
		for (j = 0; j < h.fk.tx[i].n; j++)
			free(h.fk.tx[i].reply[j]);
	free(h.fk.tx);
	ev_free(h.loop);
	h.loop = NULL;
	fflush(stderr);
	if (h.saved_stderr >= 0) {
		(void)dup2(h.saved_stderr, STDERR_FILENO);
		(void)close(h.saved_stderr);
	}
	/* TEST_ELM327_LOG=1: show the driver's log of each test */
	if (getenv("TEST_ELM327_LOG") != NULL) {
		char buf[4096];
		off_t off = 0;
		ssize_t n;

		while ((n = pread(h.log_fd, buf, sizeof(buf), off)) > 0) {
			(void)fwrite(buf, 1, (size_t)n, stderr);
			off += n;
		}
	}
	(void)close(h.log_fd);
}

TestSuite(elm327_drv, .init = setup, .fini = teardown, .timeout = 60);

/* ---- initialisation ----------------------------------------------------- */

Test(elm327_drv, init_sequence_then_no_ecu)
{
	static const char *const order[] = { "<DEL><DEL>", "ATZ", "ATE0",
	    "ATL0", "ATS0", "ATH1", "ATRV", "ATSP0" };
	struct obd_status st;
	size_t i;
	int at = 0;

	cr_assert_str_eq(obd_drv_elm327.name, "elm327");
	drv_start(pty_new());
	wait_state(OBD_NO_ECU);
	for (i = 0; i < NELEM(order); i++) {
		at = fake_find(order[i], at);
		cr_assert_geq(at, 0, "%s missing or out of order", order[i]);
	}
	cr_assert_eq(fake_find("ATI", 0), -1, "ATI although ATZ gave the "
	    "version");
	cr_assert_eq(fake_find("ATDPN", 0), -1, "ATDPN before any data");
	cr_assert_eq(h.nstates, 2);
	cr_assert_eq(h.state[0], OBD_INIT);
	cr_assert_eq(h.state[1], OBD_NO_ECU);
	memset(&st, 0, sizeof(st));
	obd_drv_elm327.info(h.drv, &st);
	cr_assert_str_eq(st.adapter, "ELM327 v1.5");
	cr_assert_eq(st.protocol_num, 0);
	cr_assert_str_eq(st.protocol, "");
	cr_assert_float_eq(obd_drv_elm327.voltage(h.drv), 12.6, 1e-9);
	cr_assert_eq(log_count("ELM327 v1.5 ready"), 1);
}

Test(elm327_drv, requests_are_answered_once_from_the_loop)
{
	static const char r0100[] = "7E8 06 41 00 BE 3F A8 13 \r\r>";
	uint8_t req[8] = { 0x01, 0x00 };
	int rc1, rc2, rc3, rc4;

	drv_start(pty_new());
	h.in_request = true;
	rc1 = obd_drv_elm327.request(h.drv, req, 2);
	h.in_request = false;
	cr_assert_eq(rc1, -1, "accepted before the adapter is ready");
	wait_state(OBD_NO_ECU);
	fake_answer_n(r0100, strlen(r0100), 100);
	h.in_request = true;
	rc1 = obd_drv_elm327.request(h.drv, req, 2);
	rc2 = obd_drv_elm327.request(h.drv, req, 2);
	rc3 = obd_drv_elm327.request(h.drv, req, 0);
	rc4 = obd_drv_elm327.request(h.drv, req, 8);
	h.in_request = false;
	cr_assert_eq(rc1, 0);
	cr_assert_eq(rc2, -1, "a second request while one is outstanding");
	cr_assert_eq(rc3, -1);
	cr_assert_eq(rc4, -1);
	cr_assert_eq(h.nreplies, 0);
	cr_assert(wait_for(cond_replies, 1, WAIT_MS));
	assert_ok1(&h.reply[0], 0x7e8, "41 00 BE 3F A8 13");
	run_for(300);
	cr_assert_eq(h.nreplies, 1, "answered more than once");
	cr_assert_eq(fake_count("0100"), 1);
}

/* ---- replies -------------------------------------------------------------- */

Test(elm327_drv, searching_reply_gets_the_long_timeout)
{
	static const char r0100[] =
	    "SEARCHING...\r7E8 06 41 00 BE 3F A8 13 \r\r>";
	static const char late[] = "7E8 03 41 0D 99 \r\r>";
	const struct rec_reply *r;
	struct obd_status st;
	int i0100;

	start_ready();
	/* 1 s: beyond the 300 ms timeout, within 10x */
	fake_answer_n(r0100, strlen(r0100), 1000);
	r = request("0100");
	assert_ok1(r, 0x7e8, "41 00 BE 3F A8 13");
	cr_assert_str_eq(r->text, "data");
	wait_cmd("ATDPN", 1);
	i0100 = fake_find("0100", 0);
	cr_assert_gt(fake_find("ATDPN", 0), i0100);
	/* the long timeout was for the search only */
	fake_answer_n(late, strlen(late), 1000);
	r = request("010D");
	cr_assert_eq(r->result, OBD_DRV_TIMEOUT);
	memset(&st, 0, sizeof(st));
	obd_drv_elm327.info(h.drv, &st);
	cr_assert_eq(st.protocol_num, 6);
	cr_assert_str_eq(st.protocol, "ISO 15765-4 CAN (11 bit ID, 500 kbaud)");
	/* the late answer arrives while idle and is dropped */
	cr_assert(wait_for(cond_delayed, 2, WAIT_MS));
	wait_log("unsolicited reply ignored", 1);
	fake_answer("7E8 03 41 0D 3C \r\r>");
	r = request("010D");
	assert_ok1(r, 0x7e8, "41 0D 3C");
	cr_assert_eq(fake_count("ATDPN"), 1);
}

Test(elm327_drv, no_data)
{
	const struct rec_reply *r;

	start_ready();
	fake_answer("NO DATA\r\r>");
	r = request("0100");
	cr_assert_eq(r->result, OBD_DRV_NO_DATA);
	cr_assert_eq(r->nmsg, 0);
	cr_assert_str_eq(r->text, "no data");
	cr_assert_eq(fake_find("ATDPN", 0), -1, "no protocol yet");
}

Test(elm327_drv, status_lines_map_to_results)
{
	static const struct {
		const char		*reply;
		enum obd_drv_result	 res;
		const char		*text;
	} t[] = {
		{ "NO DATA\r\r>", OBD_DRV_NO_DATA, "no data" },
		{ "SEARCHING...\rUNABLE TO CONNECT\r\r>", OBD_DRV_NO_DATA,
		    "unable to connect" },
		{ "\r\r>", OBD_DRV_NO_DATA, "empty" },
		{ "CAN ERROR\r\r>", OBD_DRV_ERROR, "can error" },
		{ "BUS INIT: ...ERROR\r\r>", OBD_DRV_ERROR, "bus init error" },
		{ "STOPPED\r\r>", OBD_DRV_ERROR, "stopped" },
		{ "?\r\r>", OBD_DRV_ERROR, "unknown command" },
		{ "BUFFER FULL\r\r>", OBD_DRV_ERROR, "buffer full" },
		{ "7E8 03 41 0D 32 <DATA ERROR\r\r>", OBD_DRV_ERROR,
		    "data error" },
		{ "7E8 03 41 0D <RX ERROR\r\r>", OBD_DRV_ERROR, "rx error" },
		{ "BUS BUSY\r\r>", OBD_DRV_ERROR, "bus busy" },
		{ "BUS ERROR\r\r>", OBD_DRV_ERROR, "bus error" },
		{ "FB ERROR\r\r>", OBD_DRV_ERROR, "fb error" },
		{ "ERROR\r\r>", OBD_DRV_ERROR, "error" },
		{ "ERR94\r\r>", OBD_DRV_ERROR, "error" },
		{ "LP ALERT\r\r>", OBD_DRV_ERROR, "low power alert" },
		{ "OK\r\r>", OBD_DRV_GARBAGE, "ok" },
	};
	const struct rec_reply *r;
	size_t i;

	start_ready();
	for (i = 0; i < NELEM(t); i++) {
		fake_answer(t[i].reply);
		r = request("010D");
		cr_assert_eq(r->result, t[i].res, "%s: result %d, want %d",
		    t[i].reply, r->result, t[i].res);
		cr_assert_eq(r->nmsg, 0, "%s", t[i].reply);
		cr_assert_str_eq(r->text, t[i].text, "%s", t[i].reply);
	}
	cr_assert_eq(last_state(), OBD_NO_ECU);
}

Test(elm327_drv, multi_ecu_reply)
{
	const struct rec_reply *r;

	start_ready();
	fake_answer("7E8 03 41 0D 04 \r7E9 03 41 0D 05 \r\r>");
	r = request("010D");
	cr_assert_eq(r->result, OBD_DRV_OK);
	cr_assert_eq(r->nmsg, 2);
	assert_msg(r, 0, 0x7e8, "41 0D 04");
	assert_msg(r, 1, 0x7e9, "41 0D 05");
}

Test(elm327_drv, isotp_vin_11_and_29_bit)
{
	static const char vin_payload[] = "49 02 01 4C 53 59 4E 54 48 56 42 "
	    "31 4E 41 30 30 30 30 30 31";
	const struct rec_reply *r;

	start_ready();
	fake_answer("7E8 10 14 49 02 01 4C 53 59 \r"
	    "7E8 21 4E 54 48 56 42 31 4E \r"
	    "7E8 22 41 30 30 30 30 30 31 \r\r>");
	r = request("0902");
	assert_ok1(r, 0x7e8, vin_payload);
	cr_assert_arr_eq(r->data[0] + 3, "LSYNTHVB1NA000001", 17);
	/* spaces off (ATS0), 29-bit ids */
	fake_answer("18DAF1101014490201 4C5359\r"
	    "18DAF110214E54485642314E\r"
	    "18DAF1102241303030303031\r\r>");
	r = request("0902");
	assert_ok1(r, ID29(0x18daf110), vin_payload);
}

static bool
cond_voltage(void)
{
	double v = obd_drv_elm327.voltage(h.drv);

	return !isnan(v) && fabs(v - (double)h.want / 1000.0) < 1e-9;
}

Test(elm327_drv, voltage_is_refreshed_now_and_then)
{
	int i;

	start_ready();
	warm_up();
	cr_assert_float_eq(obd_drv_elm327.voltage(h.drv), 12.6, 1e-9);
	/* not on every request */
	for (i = 0; i < 5; i++) {
		fake_answer("7E8 03 41 0D 3C \r\r>");
		assert_ok1(request("010D"), 0x7e8, "41 0D 3C");
	}
	cr_assert_eq(fake_count("ATRV"), 1);
	/* every 10 s, idle or between requests */
	h.fk.rv_reply = "13.9V\r\r>";
	cr_assert(wait_for(cond_voltage, 13900, 12000), "no new ATRV");
	cr_assert_eq(fake_count("ATRV"), 2);
	fake_answer("7E8 03 41 0D 3C \r\r>");
	assert_ok1(request("010D"), 0x7e8, "41 0D 3C");
}

/* ---- timeouts and resynchronisation -------------------------------------- */

Test(elm327_drv, timeout_then_late_reply_is_not_the_next_answer)
{
	const struct rec_reply *r;
	int i;

	start_ready();
	warm_up();
	fake_answer(NULL);		/* 010C: no prompt in time */
	/* the late answer comes just before the resync's own "?", in
	 * another read */
	h.fk.resync_late = "7E8 04 41 0C 1A F8 \r\r>";
	h.fk.resync_delay_ms = 20;
	h.fk.sequential = true;
	r = request("010C");
	cr_assert_eq(r->result, OBD_DRV_TIMEOUT);
	cr_assert_eq(r->nmsg, 0);
	fake_answer("7E8 03 41 0D 3C \r\r>");
	r = request("010D");
	assert_ok1(r, 0x7e8, "41 0D 3C");
	cr_assert_eq(h.fk.delayed_written, 1, "the resync was not answered");
	h.fk.resync_late = NULL;
	i = fake_find("010C", 0);
	cr_assert_gt(fake_find("<DEL><DEL>", i), i, "no resync after the "
	    "timeout");
	cr_assert_eq(fake_count("ATZ"), 1, "a single timeout reinitialised");
}

Test(elm327_drv, timeout_then_bare_late_prompt)
{
	const struct rec_reply *r;

	start_ready();
	warm_up();
	fake_answer(NULL);
	/* the adapter finishes the old command and swallows DEL DEL CR */
	h.fk.resync_late = ">";
	h.fk.resync_answer = "";
	r = request("010C");
	cr_assert_eq(r->result, OBD_DRV_TIMEOUT);
	fake_answer("7E8 04 41 0C 1A F8 \r\r>");
	r = request("010C");
	assert_ok1(r, 0x7e8, "41 0C 1A F8");
	cr_assert_eq(fake_count("<DEL><DEL>"), 2, "resync repeated");
	cr_assert_eq(fake_count("ATZ"), 1);
}

Test(elm327_drv, three_timeouts_reinitialise)
{
	const struct rec_reply *r;
	int i, s0;

	start_ready();
	warm_up();
	h.fk.mute_data = true;
	s0 = h.nstates;
	for (i = 0; i < 3; i++) {
		cr_assert_eq(fake_count("ATZ"), 1, "reinitialised after %d "
		    "timeouts", i);
		r = request("010C");
		cr_assert_eq(r->result, OBD_DRV_TIMEOUT);
	}
	cr_assert(wait_for(cond_nstates, (uint64_t)s0 + 2, WAIT_MS));
	cr_assert_eq(h.state[s0], OBD_INIT);
	cr_assert_str_eq(h.why[s0], "adapter stopped answering");
	cr_assert_eq(h.state[s0 + 1], OBD_NO_ECU);
	cr_assert_eq(fake_count("ATZ"), 2);
	cr_assert_eq(log_count("adapter stopped answering; reinitialising"),
	    1);
	cr_assert_eq(log_count("ELM327 v1.5 ready again"), 1);
	h.fk.mute_data = false;
	fake_answer("7E8 06 41 00 BE 3F A8 13 \r\r>");
	assert_ok1(request("0100"), 0x7e8, "41 00 BE 3F A8 13");
}

Test(elm327_drv, silent_adapter_is_reinitialised_then_down)
{
	const struct rec_reply *r;

	start_ready();
	warm_up();
	/* deaf to everything: the resyncs fail too, then ATZ */
	h.fk.mute_all = true;
	r = request("010C");
	cr_assert_eq(r->result, OBD_DRV_TIMEOUT);
	wait_state(OBD_INIT);
	wait_state(OBD_DOWN);
	cr_assert_str_eq(h.why[h.nstates - 1], "adapter does not answer ATZ");
	h.fk.mute_all = false;
	wait_state(OBD_NO_ECU);
}

Test(elm327_drv, garbage_binary_and_oversize_then_resync)
{
	static char bin[64 + 4], big[20000 + 2];
	const struct rec_reply *r;
	size_t i;
	int i3;

	start_ready();
	warm_up();
	for (i = 0; i < 64; i++)
		bin[i] = (char)(0x80 + i);
	memcpy(bin + 64, "\r\r>", 3);
	fake_answer_n(bin, 67, 0);
	r = request("010C");
	cr_assert_eq(r->result, OBD_DRV_GARBAGE);
	cr_assert_eq(r->nmsg, 0);

	fake_answer("HELLO WORLD\r\r>");
	r = request("010C");
	cr_assert_eq(r->result, OBD_DRV_GARBAGE);

	for (i = 0; i + 12 <= 20000; i += 12)
		memcpy(big + i, "41 0C 1A F8\r", 12);
	big[i++] = '>';
	fake_answer_n(big, i, 0);
	r = request("010C");
	cr_assert_eq(r->result, OBD_DRV_GARBAGE);
	cr_assert_str_eq(r->text, "reply too long");
	fake_answer("7E8 04 41 0C 1A F8 \r\r>");
	r = request("010C");
	assert_ok1(r, 0x7e8, "41 0C 1A F8");
	i3 = fake_find("010C", fake_find("010C", fake_find("010C", 0) + 1) +
	    1);
	cr_assert_gt(fake_find("<DEL><DEL>", i3), i3, "no resync");
	cr_assert_eq(fake_count("ATZ"), 1);
	cr_assert_eq(last_state(), OBD_NO_ECU);
}

/* ---- devices that come and go ------------------------------------------- */

static void
make_tmpdir(void)
{
	util_strlcpy(h.tmpdir, "/tmp/test_elm327.XXXXXX", sizeof(h.tmpdir));
	cr_assert_not_null(mkdtemp(h.tmpdir));
	(void)snprintf(h.link, sizeof(h.link), "%s/dongle", h.tmpdir);
}

/* Points h.link at target atomically. */
static void
relink(const char *target)
{
	char tmp[160];

	(void)snprintf(tmp, sizeof(tmp), "%s/new", h.tmpdir);
	(void)unlink(tmp);
	cr_assert_eq(symlink(target, tmp), 0, "symlink: %s", strerror(errno));
	cr_assert_eq(rename(tmp, h.link), 0, "rename: %s", strerror(errno));
}

Test(elm327_drv, missing_device_then_appears)
{
	make_tmpdir();
	drv_start(h.link);
	wait_state(OBD_DOWN);
	cr_assert_str_eq(h.why[0], "No such file or directory");
	wait_log("No such file or directory (attempt", 3);
	cr_assert_eq(log_count("No such file or directory; retrying (up to "
	    "every 0.2 s)"), 1);
	cr_assert_eq(h.nstates, 1, "DOWN reported on every attempt");
	relink(pty_new());
	wait_state(OBD_NO_ECU);
	cr_assert_eq(log_count("ELM327 v1.5 ready"), 1);
	cr_assert_eq(log_count("No such file or directory; retrying"), 1);
}

Test(elm327_drv, pty_closed_mid_session_then_reopened)
{
	int down;

	make_tmpdir();
	relink(pty_new());
	drv_start(h.link);
	wait_state(OBD_NO_ECU);
	/* first away from the pty: a parallel test may get its number */
	relink("/nonexistent/test_elm327");
	pty_close();
	wait_state(OBD_DOWN);
	down = h.nstates - 1;
	cr_assert(strcmp(h.why[down], "Input/output error") == 0 ||
	    strcmp(h.why[down], "device hung up") == 0, "why: %s",
	    h.why[down]);
	wait_log("No such file or directory (attempt", 2);
	cr_assert_eq(log_count("No such file or directory; retrying"), 1);
	cr_assert_eq(log_count(h.why[down]), 1);
	relink(pty_new());
	wait_state(OBD_NO_ECU);
	cr_assert_eq(log_count("ELM327 v1.5 ready again"), 1);
	cr_assert_eq(fake_count("ATZ"), 2);
	fake_answer("7E8 03 41 0D 3C \r\r>");
	assert_ok1(request("010D"), 0x7e8, "41 0D 3C");
}

Test(elm327_drv, atz_unanswered_is_down_then_retried)
{
	h.fk.mute_all = true;
	drv_start(pty_new());
	wait_state(OBD_DOWN);
	cr_assert_str_eq(h.why[0], "adapter does not answer ATZ");
	wait_cmd("ATZ", 2);
	cr_assert_eq(log_count("adapter does not answer ATZ; retrying"), 1);
	h.fk.mute_all = false;
	wait_state(OBD_NO_ECU);
	cr_assert_eq(log_count("ELM327 v1.5 ready"), 1);
}

Test(elm327_drv, unsupported_baud_is_logged_once)
{
	drv_start_opts(pty_new(), 12345, TMO_MS);
	wait_state(OBD_DOWN);
	cr_assert_str_eq(h.why[0], "unsupported baud rate 12345");
	run_for(4 * RETRY_MAX_MS);
	cr_assert_eq(h.nstates, 1);
	cr_assert_eq(log_count("unsupported baud rate 12345"), 1);
	cr_assert_eq(h.fk.ncmds, 0, "wrote to the device");
}

/* ---- TCP ------------------------------------------------------------------ */

static void
accept_cb(int fd, short revents, void *arg)
{
	int c;

	(void)revents;
	(void)arg;
	if ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	fake_close();
	fake_attach(c);
}

/* A listener on the loop (port 0: any); returns its port, or -1. */
static int
tcp_listen(int family, int port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons((uint16_t)port);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons((uint16_t)port);
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		(void)close(fd);
		return -1;
	}
	h.lfd = fd;
	cr_assert_eq(ev_fd_add(h.loop, fd, POLLIN, accept_cb, NULL), 0);
	return ntohs(family == AF_INET ? sin->sin_port : sin6->sin6_port);
}

Test(elm327_drv, tcp_dongle_and_reconnect)
{
	char dev[64];
	int port;

	port = tcp_listen(AF_INET, 0);
	cr_assert_gt(port, 0);
	(void)snprintf(dev, sizeof(dev), "tcp:127.0.0.1:%d", port);
	drv_start(dev);
	wait_state(OBD_NO_ECU);
	fake_answer("7E8 06 41 00 BE 3F A8 13 \r\r>");
	assert_ok1(request("0100"), 0x7e8, "41 00 BE 3F A8 13");
	/* the dongle drops the connection, with nothing left unread (that
	 * would be a reset, not an EOF) */
	wait_cmd("ATDPN", 1);
	fake_close();
	wait_state(OBD_DOWN);
	cr_assert_str_eq(h.why[h.nstates - 1],
	    "connection closed by the adapter");
	wait_state(OBD_NO_ECU);
	cr_assert_eq(fake_count("ATZ"), 2);
	fake_answer("7E8 03 41 0D 3C \r\r>");
	assert_ok1(request("010D"), 0x7e8, "41 0D 3C");
	cr_assert_eq(log_count("connection closed by the adapter; retrying"),
	    1);
	cr_assert_eq(log_count("ready again"), 1);
}

Test(elm327_drv, tcp_ipv6_in_brackets)
{
	char dev[64];
	int port;

	if ((port = tcp_listen(AF_INET6, 0)) <= 0)
		cr_skip_test("no IPv6 loopback here");
	(void)snprintf(dev, sizeof(dev), "tcp:[::1]:%d", port);
	drv_start(dev);
	wait_state(OBD_NO_ECU);
}

Test(elm327_drv, tcp_refused_then_listening)
{
	char dev[64];
	int port;

	port = tcp_listen(AF_INET, 0);
	cr_assert_gt(port, 0);
	ev_fd_del(h.loop, h.lfd);
	(void)close(h.lfd);
	h.lfd = -1;
	(void)snprintf(dev, sizeof(dev), "tcp:127.0.0.1:%d", port);
	drv_start(dev);
	wait_state(OBD_DOWN);
	cr_assert_str_eq(h.why[0], "Connection refused");
	wait_log("Connection refused (attempt", 2);
	cr_assert_eq(log_count("Connection refused; retrying"), 1);
	if (tcp_listen(AF_INET, port) != port)
		cr_skip_test("port %d taken meanwhile", port);
	wait_state(OBD_NO_ECU);
	cr_assert_eq(log_count("ELM327 v1.5 ready"), 1);
}

Test(elm327_drv, tcp_host_must_be_numeric)
{
	static const struct {
		const char	*dev;
		const char	*why;
	} t[] = {
		{ "tcp:obd.local:35000", "host \"obd.local\" is not a numeric "
		    "IPv4 or IPv6 address" },
		{ "tcp:::1:35000", "an IPv6 address goes in brackets" },
		{ "tcp:192.168.0.10:99999", "bad port \"99999\"" },
		{ "tcp:192.168.0.10", "expected tcp:HOST:PORT" },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++) {
		h.nstates = 0;
		drv_start(t[i].dev);
		wait_state(OBD_DOWN);
		cr_assert_not_null(strstr(h.why[0], t[i].why), "%s: %s",
		    t[i].dev, h.why[0]);
		run_for(2 * RETRY_MAX_MS);
		cr_assert_eq(h.nstates, 1, "%s: retried", t[i].dev);
		cr_assert_eq(log_count(t[i].why), 1, "%s", t[i].dev);
		obd_drv_elm327.stop(h.drv);
		h.drv = NULL;
	}
}

/* ---- the adapter resets itself ------------------------------------------- */

Test(elm327_drv, unprompted_banner_reinitialises)
{
	int s0;

	start_ready();
	warm_up();
	s0 = h.nstates;
	fake_raw(BANNER, strlen(BANNER));
	cr_assert(wait_for(cond_nstates, (uint64_t)s0 + 2, WAIT_MS));
	cr_assert_eq(h.state[s0], OBD_INIT);
	cr_assert_eq(h.state[s0 + 1], OBD_NO_ECU);
	cr_assert_eq(fake_count("ATZ"), 2);
	cr_assert_eq(log_count("unprompted banner); reinitialising"), 1);
	fake_answer("7E8 03 41 0D 3C \r\r>");
	assert_ok1(request("010D"), 0x7e8, "41 0D 3C");
	/* the protocol search starts again after ATSP0 */
	wait_cmd("ATDPN", 2);
}

Test(elm327_drv, lv_reset_during_a_request)
{
	const struct rec_reply *r;
	int s0;

	start_ready();
	warm_up();
	s0 = h.nstates;
	fake_answer("LV RESET\r" BANNER);
	r = request("010C");
	cr_assert_eq(r->result, OBD_DRV_ERROR);
	cr_assert_not_null(strstr(r->text, "LV RESET"), "%s", r->text);
	cr_assert(wait_for(cond_nstates, (uint64_t)s0 + 2, WAIT_MS));
	cr_assert_eq(h.state[s0], OBD_INIT);
	cr_assert_eq(h.state[s0 + 1], OBD_NO_ECU);
	cr_assert_eq(fake_count("ATZ"), 2);
}

/* ---- clones ------------------------------------------------------------- */

Test(elm327_drv, clone_quirks)
{
	const struct rec_reply *r;
	struct obd_status st;

	/* echo stays on, lower case, NULs, no "OK", no banner, "?" to the
	 * optional commands, deaf for a while after ATZ */
	h.fk.keep_echo = true;
	h.fk.quirky = true;
	h.fk.deaf_after_atz_ms = 400;
	fake_override("ATZ", "\r\r>");
	fake_override("ATI", "?\r\r>");
	fake_override("ATS0", "?\r\r>");
	fake_override("ATRV", "?\r\r>");
	fake_override("ATDPN", "?\r\r>");
	fake_override("ATL0", "\r\r>");
	fake_override("ATH1", "\r\r>");
	fake_override("ATSP0", "\r\r>");
	start_ready();
	cr_assert_geq(fake_count("ATE0"), 2, "ATE0 not repeated");
	cr_assert_eq(fake_count("ATI"), 1);
	memset(&st, 0, sizeof(st));
	obd_drv_elm327.info(h.drv, &st);
	cr_assert_str_eq(st.adapter, "ELM327");
	cr_assert(isnan(obd_drv_elm327.voltage(h.drv)));
	fake_answer("SEARCHING...\r7E8 06 41 00 BE 3F A8 13 \r\r>");
	r = request("0100");
	assert_ok1(r, 0x7e8, "41 00 BE 3F A8 13");
	wait_cmd("ATDPN", 1);
	fake_answer("7E8 04 41 0C 1A F8 \r\r>");
	assert_ok1(request("010C"), 0x7e8, "41 0C 1A F8");
	obd_drv_elm327.info(h.drv, &st);
	cr_assert_eq(st.protocol_num, 0);
	cr_assert_eq(last_state(), OBD_NO_ECU);
}

Test(elm327_drv, clone_refusing_ath1_is_read_without_ids)
{
	fake_override("ATH1", "ERROR\r\r>");
	start_ready();
	fake_answer("41 0D 3C \r\r>");
	assert_ok1(request("010D"), 0, "41 0D 3C");
	cr_assert_eq(log_count("adapter refuses ATH1"), 1);
}

Test(elm327_drv, legacy_protocol_turns_headers_off)
{
	const struct rec_reply *r;
	struct obd_status st;

	fake_override("ATDPN", "A3\r\r>");
	start_ready();
	/* ISO 9141 with headers: elm327_parse reads no legacy headers */
	fake_answer("SEARCHING...\r48 6B 10 41 00 BE 3F A8 13 AB \r\r>");
	r = request("0100");
	cr_assert_eq(r->result, OBD_DRV_GARBAGE);
	wait_cmd("ATH0", 1);
	fake_answer("41 0D 3C \r\r>");
	assert_ok1(request("010D"), 0, "41 0D 3C");
	memset(&st, 0, sizeof(st));
	obd_drv_elm327.info(h.drv, &st);
	cr_assert_eq(st.protocol_num, 3);
	cr_assert_str_eq(st.protocol, "ISO 9141-2 (5 baud init, 10.4 kbaud)");
}

/* ---- the reader's side -------------------------------------------------- */

Test(elm327_drv, stop_from_inside_a_reply)
{
	start_ready();
	fake_answer("7E8 06 41 00 BE 3F A8 13 \r\r>");
	h.stop_in_reply = true;
	(void)request("0100");
	cr_assert_null(h.drv);
	run_for(300);		/* ASan: nothing of the driver is touched */
	cr_assert_eq(h.nreplies, 1);
}

Test(elm327_drv, reconfigure_applies_the_new_timeout)
{
	static const char slow[] = "7E8 03 41 0D 3C \r\r>";
	struct obd_opts o;

	start_ready();
	warm_up();
	fake_answer_n(slow, strlen(slow), 150);
	assert_ok1(request("010D"), 0x7e8, "41 0D 3C");
	o = h.opts;
	o.timeout_ms = 50;
	obd_drv_elm327.reconfigure(h.drv, &o);
	fake_answer_n(slow, strlen(slow), 150);
	cr_assert_eq(request("010D")->result, OBD_DRV_TIMEOUT);
}

/* ---- the shared transcripts ---------------------------------------------- */

struct tx_exchange {
	char	 req[FAKE_CMD_LEN];
	char	 lines[16][TX_LINE];
	int	 nlines;
	char	 expect[48][TX_LINE];
	int	 nexpect;
	char	 raw[TX_LINE];
	size_t	 rawlen;
};

static struct tx_exchange	tx_ex[TX_MAX];
static int			tx_n;

/* C string body (after ~ ") into raw bytes. */
static size_t
tx_unescape(const char *s, char *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (*s != '\0' && *s != '"' && n < max) {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r':
			out[n++] = '\r';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'x':
			cr_assert_eq(sscanf(s + 1, "%2x", &b), 1);
			out[n++] = (char)b;
			s += 2;
			break;
		default:
			out[n++] = *s;
			break;
		}
		s++;
	}
	return n;
}

static void
tx_normalise(const char *in, char *out, size_t max)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < max; in++)
		if (*in != ' ')
			out[n++] = (char)toupper((unsigned char)*in);
	out[n] = '\0';
}

/* Reads one block of elm327-transcripts.txt; false if the file is absent. */
static bool
tx_load(const char *block)
{
	char line[TX_LINE], head[96];
	struct tx_exchange *x = NULL;
	bool in = false;
	FILE *fp;
	size_t l;

	if ((fp = obd_testdata_open("elm327-transcripts.txt")) == NULL)
		return false;
	(void)snprintf(head, sizeof(head), "@@ %s ", block);
	tx_n = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		l = strcspn(line, "\r\n");
		line[l] = '\0';
		if (strncmp(line, "@@ ", 3) == 0) {
			if (in)
				break;
			in = strncmp(line, head, strlen(head)) == 0;
			continue;
		}
		if (!in || line[0] == '#')
			continue;
		if (line[0] == '\0') {
			x = NULL;
			continue;
		}
		if (line[0] == '>' && line[1] == ' ') {
			cr_assert_lt(tx_n, TX_MAX);
			x = &tx_ex[tx_n++];
			memset(x, 0, sizeof(*x));
			tx_normalise(line + 2, x->req, sizeof(x->req));
		} else if (x == NULL)
			continue;
		else if (strncmp(line, "~ \"", 3) == 0)
			x->rawlen = tx_unescape(line + 3, x->raw,
			    sizeof(x->raw));
		else if (strncmp(line, "= ", 2) == 0) {
			if (x->nexpect < 48)
				util_strlcpy(x->expect[x->nexpect++],
				    line + 2, TX_LINE);
		} else if (x->nlines < 16)
			util_strlcpy(x->lines[x->nlines++], line, TX_LINE);
	}
	fclose(fp);
	cr_assert_gt(tx_n, 0, "block %s not found", block);
	return true;
}

/* The fake answers each command with the block's bytes, in order. */
static void
tx_to_fake(void)
{
	struct fake *f = &h.fk;
	struct tx_entry *t;
	int i, k;

	f->tx = calloc(TX_MAX, sizeof(*f->tx));
	cr_assert_not_null(f->tx);
	for (i = 0; i < tx_n; i++) {
		if (tx_ex[i].rawlen == 0)
			continue;
		for (k = 0; k < f->ntx; k++)
			if (strcmp(f->tx[k].cmd, tx_ex[i].req) == 0)
				break;
		t = &f->tx[k];
		if (k == f->ntx) {
			f->ntx++;
			util_strlcpy(t->cmd, tx_ex[i].req, sizeof(t->cmd));
		}
		if (t->n < 8) {
			t->reply[t->n] = malloc(tx_ex[i].rawlen);
			cr_assert_not_null(t->reply[t->n]);
			memcpy(t->reply[t->n], tx_ex[i].raw, tx_ex[i].rawlen);
			t->len[t->n++] = tx_ex[i].rawlen;
		}
	}
}

/* The single-frame messages of headers-on lines ("7E8 03 41 0D 04"). */
static void
tx_check_single_frames(const struct tx_exchange *x, const struct rec_reply *r)
{
	unsigned int id, pci, b;
	uint8_t data[8];
	size_t nm = 0, k;
	const char *p;
	int i, off;

	for (i = 0; i < x->nlines; i++) {
		p = x->lines[i];
		if (strlen(p) < 6 || p[3] != ' ' ||
		    sscanf(p, "%3x %2x%n", &id, &pci, &off) != 2 ||
		    pci < 1 || pci > 7)
			continue;
		p += off;
		for (k = 0; k < pci; k++) {
			cr_assert_eq(sscanf(p, " %2x%n", &b, &off), 1, "%s",
			    x->lines[i]);
			data[k] = (uint8_t)b;
			p += off;
		}
		cr_assert_lt(nm, r->nmsg, "%s: fewer messages", x->req);
		cr_assert_eq(r->id[nm], id, "%s", x->req);
		cr_assert_eq(r->len[nm], pci, "%s", x->req);
		cr_assert_arr_eq(r->data[nm], data, pci, "%s", x->req);
		nm++;
	}
	cr_assert_eq(nm, r->nmsg, "%s: %zu messages, want %zu", x->req,
	    r->nmsg, nm);
}

static void
tx_check(const struct tx_exchange *x, const struct rec_reply *r)
{
	uint8_t want[MSG_MAX];
	unsigned int id;
	bool payload = false, error = false;
	size_t i, n;
	int e, off;

	for (e = 0; e < x->nexpect; e++) {
		const char *s = x->expect[e];

		if (strncmp(s, "ERROR ", 6) == 0) {
			error = true;
			if (strncmp(s + 6, "NO_DATA", 7) == 0 ||
			    strncmp(s + 6, "UNABLE_TO_CONNECT", 17) == 0)
				cr_assert_eq(r->result, OBD_DRV_NO_DATA,
				    "%s: %s", x->req, s);
			else
				cr_assert_eq(r->result, OBD_DRV_ERROR,
				    "%s: %s", x->req, s);
		} else if (strncmp(s, "RESPONSES ", 10) == 0)
			cr_assert_eq(r->nmsg, strtoul(s + 10, NULL, 10),
			    "%s: %s", x->req, s);
		else if (sscanf(s, "PAYLOAD@%x%n", &id, &off) == 1) {
			payload = true;
			n = hex_bytes(s + off, want, sizeof(want));
			for (i = 0; i < r->nmsg; i++)
				if (r->id[i] == id)
					break;
			cr_assert_lt(i, r->nmsg, "%s: no message from %X",
			    x->req, id);
			cr_assert_eq(r->len[i], n, "%s", x->req);
			cr_assert_arr_eq(r->data[i], want, n, "%s", x->req);
		}
	}
	if (!error && !payload) {
		cr_assert_eq(r->result, OBD_DRV_OK, "%s: result %d", x->req,
		    r->result);
		tx_check_single_frames(x, r);
	}
}

static void
tx_run(const char *block)
{
	const struct rec_reply *r;
	struct obd_status st;
	int i, e, checked = 0;
	double v;

	if (!tx_load(block))
		cr_skip_test("elm327-transcripts.txt not found (set "
		    "FLEETGW_OBD_TESTDATA or provide ../shared)");
	tx_to_fake();
	start_ready();
	for (i = 0; i < tx_n; i++) {
		if (is_at(tx_ex[i].req) || tx_ex[i].rawlen == 0)
			continue;
		r = request(tx_ex[i].req);
		tx_check(&tx_ex[i], r);
		checked++;
	}
	cr_assert_gt(checked, 10);
	/* A NO DATA drops the voltage and asks ATRV again: let it answer. */
	(void)wait_for(cond_some_voltage, 0, WAIT_MS);
	memset(&st, 0, sizeof(st));
	obd_drv_elm327.info(h.drv, &st);
	for (i = 0; i < tx_n; i++)
		for (e = 0; e < tx_ex[i].nexpect; e++) {
			const char *s = tx_ex[i].expect[e];

			if (strncmp(s, "ADAPTER_ID ", 11) == 0)
				cr_assert_str_eq(st.adapter, s + 11);
			else if (sscanf(s, "VOLTAGE %lf", &v) == 1)
				cr_assert_float_eq(
				    obd_drv_elm327.voltage(h.drv), v, 1e-9);
			else if (strncmp(s, "PROTOCOL_NUMBER ", 16) == 0)
				cr_assert_eq(st.protocol_num,
				    (int)strtol(s + 16, NULL, 16));
		}
	cr_assert_eq(last_state(), OBD_NO_ECU);
}

Test(elm327_drv, transcript_emu_default_h1)
{
	tx_run("EMU-DEFAULT-H1");
}

Test(elm327_drv, transcript_emu_car_h1)
{
	tx_run("EMU-CAR-H1");
}
