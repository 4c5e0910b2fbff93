/* SPDX-License-Identifier: MIT */
/*
 * elm327.c - the ELM327 driver: an ELM327 or clone on a tty (USB serial,
 * Bluetooth rfcomm) or over TCP (Wi-Fi dongles), spoken to half-duplex
 * from the poll() loop.
 *
 * Life cycle, all driven from the loop:
 *
 *   closed --retry_timer--> open() the tty / non-blocking connect()
 *   --open--> init: DEL DEL CR, ATZ, pause, ATE0 ATL0 ATS0 ATH1 [ATI]
 *   ATRV ATSP0 --> ready (OBD_NO_ECU): requests; ATDPN after the first
 *   data reply; ATRV every ELM_RV_PERIOD_MS, and after each NO DATA (the
 *   old reading is dropped: the ignition may just have gone off)
 *   any --unplug, EOF, I/O error, ATZ unanswered--> closed, retry after
 *   a backoff of retry_min_ms doubling to retry_max_ms
 *
 * One command is on the line at a time and its reply ends only at the
 * '>' prompt: clones send "OK" and the prompt in separate reads, and a
 * parser that stops early takes the late prompt for the next answer.
 * Bytes are collected up to ELM327_MAX_REPLY; more is garbage, answered
 * at once, and the line is resynchronised.
 *
 * Resynchronisation (after a timeout, an oversize reply, and before ATZ
 * to flush a half-typed command) sends DEL DEL CR, never a bare CR: a
 * bare CR makes a real ELM327 repeat the last command, which would put
 * one more late prompt on the line.  DEL DEL CR is answered "?" (or
 * interrupts a command still running, "STOPPED"), and everything is
 * discarded until the line has been quiet for ELM_SETTLE_MS after a '>'.
 * The adapter answers in order, so the late prompt of the timed-out
 * command comes before the resync's own, and both are swallowed.
 *
 * An adapter that resets itself (a banner or "LV RESET" where none was
 * asked for, "ACT ALERT") has lost its settings: it is initialised
 * again, and the reader sees OBD_INIT then OBD_NO_ECU.
 *
 * Upcalls (obd_drv_state(), obd_drv_reply()) are made only from loop
 * callbacks, and always last or followed by a check of e->zombie: the
 * reader may stop the driver from inside one, and then the memory is
 * freed when the outermost callback returns.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "elm327_parse.h"
#include "ev.h"
#include "log.h"
#include "obd.h"
#include "obd_drv.h"
#include "util.h"

#define ELM_DEFAULT_BAUD	38400	/* the ELM327's boot rate */
#define ELM_DEFAULT_TIMEOUT_MS	2000
#define ELM_DEFAULT_RETRY_MIN_MS 1000
#define ELM_DEFAULT_RETRY_MAX_MS 60000
/* ATZ: a genuine chip prints its banner after about 1 s. */
#define ELM_ATZ_TIMEOUT_MS	3000
/* Some clones lose a command sent right after ATZ's prompt. */
#define ELM_ATZ_PAUSE_MS	200
/* The first request after ATSP0 runs the protocol search. */
#define ELM_SEARCH_FACTOR	10
/* The flush before ATZ: an adapter just powered up may say nothing. */
#define ELM_FLUSH_TIMEOUT_MS	1000
/* Quiet after a '>' that ends a resynchronisation. */
#define ELM_SETTLE_MS		100
#define ELM_CONNECT_TIMEOUT_MS	5000
#define ELM_RV_PERIOD_MS	10000
/* Consecutive timeouts (or oversize replies) before ATZ again. */
#define ELM_MAX_FAILS		3
/* Initialisations in a row that may fail before the device is closed. */
#define ELM_INIT_TRIES		3
/* A reset banner or alert is short; longer idle text is not checked. */
#define ELM_IDLE_CHECK_MAX	256
#define ELM_READ_CHUNK		4096
#define ELM_READS_PER_CB	16	/* bounded work per loop turn */
#define ELM_REQ_MAX		7	/* mode + 6 bytes, one CAN frame */
#define ELM_CMD_MAX		24
#define ELM_WHY_MAX		160
#define ELM_RESYNC		"\x7f\x7f"	/* + CR: answered "?" */
#define ELM_TCP_PREFIX		"tcp:"
#define ELM_HOST_MAX		64
#define ELM_PORT_MAX		65535
#define ELM_MS_PER_S		1000.0
#define ELM_MV_PER_V		1000.0
#define ELM_LEGACY_MAX		5	/* protocols 1..5: J1850, ISO 9141, KWP */

enum elm_link {
	ELM_LINK_CLOSED,	/* no fd; retry_timer may be armed */
	ELM_LINK_CONNECTING,	/* TCP connect() in progress, POLLOUT */
	ELM_LINK_OPEN
};

enum elm_phase {
	ELM_PH_DOWN,
	ELM_PH_INIT,
	ELM_PH_READY		/* OBD_NO_ECU reported: requests accepted */
};

/* The command on the line. */
enum elm_cmd {
	ELM_CMD_NONE,
	ELM_CMD_ATZ,
	ELM_CMD_SETUP,		/* an init step after ATZ */
	ELM_CMD_DPN,
	ELM_CMD_H0,		/* headers off for a legacy protocol */
	ELM_CMD_RV,
	ELM_CMD_REQUEST
};

/* What incoming bytes are for when no command is on the line. */
enum elm_sync {
	ELM_SYNC_NONE,
	ELM_SYNC_FLUSH,		/* DEL DEL CR before ATZ */
	ELM_SYNC_RESYNC,	/* DEL DEL CR after a timeout */
	ELM_SYNC_PAUSE		/* after ATZ: discard */
};

enum elm_req {
	ELM_REQ_NONE,
	ELM_REQ_QUEUED,		/* accepted, waiting for the line */
	ELM_REQ_SENT
};

enum elm_step {
	ELM_STEP_FLUSH,
	ELM_STEP_ATZ,
	ELM_STEP_ATE0,
	ELM_STEP_ATL0,
	ELM_STEP_ATS0,
	ELM_STEP_ATH1,
	ELM_STEP_ATI,		/* only when ATZ gave no version */
	ELM_STEP_ATRV,
	ELM_STEP_ATSP0,
	ELM_STEP_DONE
};

static const char *const elm_step_cmd[] = {
	[ELM_STEP_FLUSH] = ELM_RESYNC,
	[ELM_STEP_ATZ] = "ATZ",
	[ELM_STEP_ATE0] = "ATE0",
	[ELM_STEP_ATL0] = "ATL0",
	[ELM_STEP_ATS0] = "ATS0",
	[ELM_STEP_ATH1] = "ATH1",
	[ELM_STEP_ATI] = "ATI",
	[ELM_STEP_ATRV] = "ATRV",
	[ELM_STEP_ATSP0] = "ATSP0",
	[ELM_STEP_DONE] = NULL
};

/* ELM327 data sheet, ATSP/ATDP: protocols 1..C. */
static const char *const elm_protocols[] = {
	"",
	"SAE J1850 PWM (41.6 kbaud)",
	"SAE J1850 VPW (10.4 kbaud)",
	"ISO 9141-2 (5 baud init, 10.4 kbaud)",
	"ISO 14230-4 KWP (5 baud init, 10.4 kbaud)",
	"ISO 14230-4 KWP (fast init, 10.4 kbaud)",
	"ISO 15765-4 CAN (11 bit ID, 500 kbaud)",
	"ISO 15765-4 CAN (29 bit ID, 500 kbaud)",
	"ISO 15765-4 CAN (11 bit ID, 250 kbaud)",
	"ISO 15765-4 CAN (29 bit ID, 250 kbaud)",
	"SAE J1939 CAN (29 bit ID, 250 kbaud)",
	"USER1 CAN (11 bit ID, 125 kbaud)",
	"USER2 CAN (11 bit ID, 50 kbaud)"
};

struct elm {
	struct ev_loop	*loop;
	struct obd	*obd;
	char		*device;		/* as configured, for logs */
	uint32_t	 timeout_ms;
	uint32_t	 retry_min_ms;
	uint32_t	 retry_max_ms;
	bool		 tcp;
	struct sockaddr_storage addr;		/* tcp */
	socklen_t	 addrlen;
	speed_t		 speed;			/* tty */
	char		 config_error[ELM_WHY_MAX]; /* "" if the device is ok */

	enum elm_link	 link;
	int		 fd;
	enum elm_phase	 phase;
	enum elm_step	 step;
	int		 init_tries;
	enum elm_cmd	 cur;
	char		 cur_text[ELM_CMD_MAX];	/* sent, without CR */
	uint64_t	 cur_timeout_ms;
	enum elm_sync	 sync;
	bool		 sync_prompt;		/* a '>' since the resync */
	enum elm_req	 req;
	uint8_t		 req_buf[ELM_REQ_MAX];
	size_t		 req_len;
	int		 nfail;			/* consecutive timeouts */

	/* This adapter session. */
	bool		 headers;		/* ATH1 accepted */
	bool		 searching;		/* no data since ATSP0 yet */
	bool		 want_dpn;
	bool		 want_h0;
	bool		 rv_due;
	bool		 rv_ok;			/* ATRV not refused */
	bool		 got_version;
	bool		 h1_logged;
	int		 late_banners;		/* banners after ATZ's */

	char		 adapter[64];
	int		 protocol_num;
	int		 voltage_mv;
	bool		 have_voltage;

	/* Reporting and logging. */
	enum obd_state	 reported;
	char		 reported_why[ELM_WHY_MAX];
	char		 problem[ELM_WHY_MAX];	/* last logged, "" none */
	bool		 outage;		/* recovery is to be logged */
	bool		 ever_ready;
	int		 logged_proto;
	uint32_t	 backoff_ms;
	uint64_t	 attempts;		/* since the last good init */

	int		 depth;			/* callbacks running */
	bool		 zombie;		/* stopped inside a callback */

	struct ev_timer	 retry_timer;		/* open / connect again */
	struct ev_timer	 cmd_timer;		/* command / sync deadline */
	struct ev_timer	 settle_timer;		/* quiet line, ATZ pause */
	struct ev_timer	 kick_timer;		/* send what is next */
	struct ev_timer	 rv_timer;

	size_t		 olen;
	size_t		 ooff;
	char		 obuf[ELM_CMD_MAX + 2];
	uint64_t	 rx_bytes;		/* received, ever */
	size_t		 ilen;
	bool		 overflow;		/* discarding up to '>' */
	char		 ibuf[ELM327_MAX_REPLY];
	struct elm327_reply reply;
};

static void	elm_fd_cb(int, short, void *);
static void	elm_reinit(struct elm *, const char *, bool);
static void	elm_fail(struct elm *, const char *);

/* ---- small helpers ---------------------------------------------------- */

static void
elm_destroy(struct elm *e)
{
	free(e->device);
	free(e);
}

static void
elm_enter(struct elm *e)
{
	e->depth++;
}

static void
elm_leave(struct elm *e)
{
	if (--e->depth == 0 && e->zombie)
		elm_destroy(e);
}

static uint64_t
elm_max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void
elm_kick(struct elm *e)
{
	ev_timer_set(e->loop, &e->kick_timer, 0);
}

/* Tells the reader; false if it stopped the driver meanwhile. */
static bool
elm_report(struct elm *e, enum obd_state st, const char *why)
{
	if (st == e->reported &&
	    (st != OBD_DOWN || strcmp(why, e->reported_why) == 0))
		return true;
	e->reported = st;
	util_strlcpy(e->reported_why, why, sizeof(e->reported_why));
	obd_drv_state(e->obd, st, why);
	return !e->zombie;
}

static bool
elm_deliver(struct elm *e, const struct obd_drv_reply *rep)
{
	obd_drv_reply(e->obd, rep);
	return !e->zombie;
}

static bool
elm_deliver_status(struct elm *e, enum obd_drv_result res, const char *text)
{
	struct obd_drv_reply rep;

	memset(&rep, 0, sizeof(rep));
	rep.result = res;
	rep.text = text;
	return elm_deliver(e, &rep);
}

/*
 * A problem is logged when it differs from the last one logged, and the
 * recovery once when the adapter is ready again.
 */
static void
elm_problem(struct elm *e, const char *what, bool retrying)
{
	if (strcmp(what, e->problem) == 0) {
		log_debug("obd: %s: %s (attempt %llu)", e->device, what,
		    (unsigned long long)e->attempts);
	} else if (retrying) {
		log_warnx("obd: %s: %s; retrying (up to every %g s)",
		    e->device, what, (double)e->retry_max_ms / ELM_MS_PER_S);
	} else
		log_warnx("obd: %s: %s; reinitialising", e->device, what);
	util_strlcpy(e->problem, what, sizeof(e->problem));
	e->outage = true;
}

static int
elm_speed(int baud, speed_t *sp)
{
	static const struct {
		int	 baud;
		speed_t	 speed;
	} map[] = {
		{ 1200, B1200 }, { 2400, B2400 }, { 4800, B4800 },
		{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 },
		{ 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 },
		{ 460800, B460800 }, { 500000, B500000 }, { 576000, B576000 },
		{ 921600, B921600 }, { 1000000, B1000000 },
		{ 1152000, B1152000 }, { 1500000, B1500000 },
		{ 2000000, B2000000 }
	};
	size_t i;

	for (i = 0; i < NELEM(map); i++)
		if (map[i].baud == baud) {
			*sp = map[i].speed;
			return 0;
		}
	return -1;
}

/*
 * "tcp:HOST:PORT" with a numeric IPv4 address or a bracketed IPv6 one:
 * no name lookup, which would block the loop.  0, or -1 with
 * e->config_error set.
 */
static int
elm_parse_tcp(struct elm *e, const char *spec)
{
	struct addrinfo hints, *ai;
	const char *p = spec + strlen(ELM_TCP_PREFIX), *h, *port, *q;
	char host[ELM_HOST_MAX];
	size_t hl;
	long num;
	int rc;

	if (*p == '[') {
		h = p + 1;
		if ((q = strchr(h, ']')) == NULL || q[1] != ':')
			goto syntax;
		hl = (size_t)(q - h);
		port = q + 2;
	} else {
		h = p;
		if ((q = strrchr(h, ':')) == NULL)
			goto syntax;
		hl = (size_t)(q - h);
		port = q + 1;
		if (memchr(h, ':', hl) != NULL) {
			(void)snprintf(e->config_error,
			    sizeof(e->config_error), "an IPv6 address goes "
			    "in brackets, as in tcp:[::1]:35000");
			return -1;
		}
	}
	if (hl == 0 || hl >= sizeof(host))
		goto syntax;
	memcpy(host, h, hl);
	host[hl] = '\0';
	num = 0;
	for (q = port; *q >= '0' && *q <= '9' && num <= ELM_PORT_MAX; q++)
		num = num * 10 + (*q - '0');
	if (q == port || *q != '\0' || num < 1 || num > ELM_PORT_MAX) {
		(void)snprintf(e->config_error, sizeof(e->config_error),
		    "bad port \"%s\" (1..%d)", port, ELM_PORT_MAX);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		(void)snprintf(e->config_error, sizeof(e->config_error),
		    "host \"%.32s\" is not a numeric IPv4 or IPv6 address "
		    "(no name lookup; e.g. tcp:192.168.0.10:35000, "
		    "tcp:[::1]:35000)", host);
		return -1;
	}
	memcpy(&e->addr, ai->ai_addr, ai->ai_addrlen);
	e->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
syntax:
	(void)snprintf(e->config_error, sizeof(e->config_error),
	    "expected tcp:HOST:PORT or tcp:[IPV6]:PORT");
	return -1;
}

static void
elm_apply_opts(struct elm *e, const struct obd_opts *o)
{
	e->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms :
	    ELM_DEFAULT_TIMEOUT_MS;
	e->retry_min_ms = o->retry_min_ms != 0 ? o->retry_min_ms :
	    ELM_DEFAULT_RETRY_MIN_MS;
	e->retry_max_ms = o->retry_max_ms != 0 ? o->retry_max_ms :
	    ELM_DEFAULT_RETRY_MAX_MS;
	if (e->retry_max_ms < e->retry_min_ms)
		e->retry_max_ms = e->retry_min_ms;
	if (e->backoff_ms < e->retry_min_ms)
		e->backoff_ms = e->retry_min_ms;
	if (e->backoff_ms > e->retry_max_ms)
		e->backoff_ms = e->retry_max_ms;
}

/* ---- the link --------------------------------------------------------- */

static void
elm_close(struct elm *e)
{
	if (e->fd != -1) {
		ev_fd_del(e->loop, e->fd);
		(void)close(e->fd);
		e->fd = -1;
	}
	e->link = ELM_LINK_CLOSED;
	ev_timer_stop(e->loop, &e->cmd_timer);
	ev_timer_stop(e->loop, &e->settle_timer);
	ev_timer_stop(e->loop, &e->kick_timer);
	ev_timer_stop(e->loop, &e->rv_timer);
	e->cur = ELM_CMD_NONE;
	e->sync = ELM_SYNC_NONE;
	e->req = ELM_REQ_NONE;		/* forgotten: the reader sees DOWN */
	e->ilen = 0;
	e->overflow = false;
	e->olen = e->ooff = 0;
	e->have_voltage = false;
	e->protocol_num = 0;
}

static void
elm_schedule_retry(struct elm *e)
{
	ev_timer_set(e->loop, &e->retry_timer, e->backoff_ms);
	e->backoff_ms = e->backoff_ms > e->retry_max_ms / 2 ?
	    e->retry_max_ms : e->backoff_ms * 2;
}

/* The device is gone or the adapter dead: close, report, retry later. */
static void
elm_fail(struct elm *e, const char *why)
{
	char reason[ELM_WHY_MAX];

	util_strlcpy(reason, why, sizeof(reason));
	elm_close(e);
	e->phase = ELM_PH_DOWN;
	elm_problem(e, reason, true);
	elm_schedule_retry(e);
	(void)elm_report(e, OBD_DOWN, reason);
}

/* Writes what is left of obuf; -1 if the link failed (reported). */
static int
elm_flush_out(struct elm *e)
{
	ssize_t n;

	while (e->ooff < e->olen) {
		if (e->tcp)
			n = send(e->fd, e->obuf + e->ooff, e->olen - e->ooff,
			    MSG_NOSIGNAL);
		else
			n = write(e->fd, e->obuf + e->ooff,
			    e->olen - e->ooff);
		if (n > 0) {
			e->ooff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			(void)ev_fd_mod(e->loop, e->fd, POLLIN | POLLOUT);
			return 0;
		}
		elm_fail(e, n == -1 ? strerror(errno) : "write failed");
		return -1;
	}
	e->olen = e->ooff = 0;
	(void)ev_fd_mod(e->loop, e->fd, POLLIN);
	return 0;
}

static int
elm_write(struct elm *e, const char *text)
{
	int n;

	n = snprintf(e->obuf, sizeof(e->obuf), "%s\r", text);
	e->olen = n > 0 && (size_t)n < sizeof(e->obuf) ? (size_t)n : 0;
	e->ooff = 0;
	return elm_flush_out(e);
}

/* ---- commands --------------------------------------------------------- */

static void
elm_send(struct elm *e, enum elm_cmd kind, const char *text,
    uint64_t timeout_ms)
{
	e->cur = kind;
	util_strlcpy(e->cur_text, text, sizeof(e->cur_text));
	e->cur_timeout_ms = timeout_ms;
	e->ilen = 0;
	e->overflow = false;
	ev_timer_set(e->loop, &e->cmd_timer, timeout_ms);
	(void)elm_write(e, text);
}

/* DEL DEL CR, then discard until the line is quiet after a '>'. */
static void
elm_start_sync(struct elm *e, enum elm_sync kind)
{
	uint64_t tmo = e->timeout_ms;

	if (kind == ELM_SYNC_FLUSH && tmo > ELM_FLUSH_TIMEOUT_MS)
		tmo = ELM_FLUSH_TIMEOUT_MS;
	e->cur = ELM_CMD_NONE;
	e->cur_timeout_ms = tmo;
	e->sync = kind;
	e->sync_prompt = false;
	e->ilen = 0;
	e->overflow = false;
	ev_timer_stop(e->loop, &e->settle_timer);
	ev_timer_set(e->loop, &e->cmd_timer, tmo);
	(void)elm_write(e, ELM_RESYNC);
}

static void
elm_sync_done(struct elm *e)
{
	enum elm_sync was = e->sync;

	e->sync = ELM_SYNC_NONE;
	ev_timer_stop(e->loop, &e->cmd_timer);
	ev_timer_stop(e->loop, &e->settle_timer);
	e->ilen = 0;
	e->overflow = false;
	if (was == ELM_SYNC_FLUSH)
		e->step = ELM_STEP_ATZ;
	elm_kick(e);
}

/* Leaves the ready phase (request() refuses); true if it was ready. */
static bool
elm_unready(struct elm *e)
{
	bool was = e->phase == ELM_PH_READY;

	if (was)
		e->phase = ELM_PH_INIT;
	return was;
}

static void
elm_begin_init(struct elm *e)
{
	e->phase = ELM_PH_INIT;
	e->step = ELM_STEP_FLUSH;
	e->headers = true;
	e->searching = false;
	e->want_dpn = false;
	e->want_h0 = false;
	e->rv_due = false;
	e->rv_ok = true;
	e->got_version = false;
	e->late_banners = 0;
	e->nfail = 0;
	e->protocol_num = 0;
	ev_timer_stop(e->loop, &e->rv_timer);
	elm_start_sync(e, ELM_SYNC_FLUSH);
}

/*
 * The adapter reset itself or stopped answering: set it up again.  A
 * request accepted and not answered yet is answered with an error first,
 * so the reader never waits for a reply that will not come.
 */
static void
elm_reinit(struct elm *e, const char *why, bool was_ready)
{
	char reason[ELM_WHY_MAX];

	util_strlcpy(reason, why, sizeof(reason));
	e->phase = ELM_PH_INIT;
	e->cur = ELM_CMD_NONE;
	ev_timer_stop(e->loop, &e->cmd_timer);
	if (e->req != ELM_REQ_NONE) {
		e->req = ELM_REQ_NONE;
		if (!elm_deliver_status(e, OBD_DRV_ERROR, reason))
			return;
	}
	if (e->link != ELM_LINK_OPEN)
		return;
	if (++e->init_tries > ELM_INIT_TRIES) {
		elm_fail(e, "adapter does not complete its initialisation");
		return;
	}
	elm_problem(e, reason, false);
	elm_begin_init(e);
	if (e->link != ELM_LINK_OPEN)
		return;
	if (was_ready)
		(void)elm_report(e, OBD_INIT, reason);
}

static void
elm_ready(struct elm *e)
{
	e->phase = ELM_PH_READY;
	e->init_tries = 0;
	e->backoff_ms = e->retry_min_ms;
	e->attempts = 0;
	e->searching = true;
	if (e->adapter[0] == '\0')
		util_strlcpy(e->adapter, "ELM327", sizeof(e->adapter));
	if (e->outage || !e->ever_ready)
		log_info("obd: %s: %s ready%s", e->device, e->adapter,
		    e->ever_ready ? " again" : "");
	else
		log_debug("obd: %s: %s ready", e->device, e->adapter);
	e->outage = false;
	e->problem[0] = '\0';
	e->ever_ready = true;
	ev_timer_set(e->loop, &e->rv_timer, ELM_RV_PERIOD_MS);
	elm_kick(e);
	(void)elm_report(e, OBD_NO_ECU, "");
}

/* Sends whatever is next, if the line is free. */
static void
elm_next(struct elm *e)
{
	char text[2 * ELM_REQ_MAX + 1];
	uint64_t tmo = e->timeout_ms;
	size_t i;

	if (e->link != ELM_LINK_OPEN || e->cur != ELM_CMD_NONE ||
	    e->sync != ELM_SYNC_NONE)
		return;
	if (e->phase == ELM_PH_INIT) {
		if (e->step == ELM_STEP_FLUSH)
			elm_start_sync(e, ELM_SYNC_FLUSH);
		else if (e->step == ELM_STEP_ATZ)
			elm_send(e, ELM_CMD_ATZ, elm_step_cmd[e->step],
			    elm_max_u64(ELM_ATZ_TIMEOUT_MS, tmo));
		else if (e->step < ELM_STEP_DONE)
			elm_send(e, ELM_CMD_SETUP, elm_step_cmd[e->step], tmo);
		return;
	}
	if (e->phase != ELM_PH_READY)
		return;
	if (e->want_dpn)
		elm_send(e, ELM_CMD_DPN, "ATDPN", tmo);
	else if (e->want_h0)
		elm_send(e, ELM_CMD_H0, "ATH0", tmo);
	else if (e->rv_due && e->rv_ok) {
		e->rv_due = false;
		elm_send(e, ELM_CMD_RV, "ATRV", tmo);
	} else if (e->req == ELM_REQ_QUEUED) {
		for (i = 0; i < e->req_len; i++)
			(void)snprintf(text + 2 * i, 3, "%02X", e->req_buf[i]);
		text[2 * e->req_len] = '\0';
		e->req = ELM_REQ_SENT;
		elm_send(e, ELM_CMD_REQUEST, text,
		    e->searching ? tmo * ELM_SEARCH_FACTOR : tmo);
	}
}

static void
elm_next_step(struct elm *e)
{
	do
		e->step++;
	while (e->step == ELM_STEP_ATI && e->got_version);
	if (e->step >= ELM_STEP_DONE)
		elm_ready(e);
	else
		elm_kick(e);
}

/* ---- replies ---------------------------------------------------------- */

/* Why the adapter seems to have reset itself, or NULL. */
static const char *
elm_reset_signal(const struct elm327_reply *r)
{
	int ma, mi;

	if (r->status == ELM327_LV_RESET)
		return "adapter reset (LV RESET)";
	if (r->status == ELM327_ACT_ALERT)
		return "adapter about to sleep (ACT ALERT)";
	if (r->text[0] != '\0' && elm327_parse_version(r->text, &ma, &mi) == 0)
		return "adapter reset itself (unprompted banner)";
	return NULL;
}

static bool
elm_refused(const struct elm327_reply *r)
{
	return r->status == ELM327_UNKNOWN_COMMAND ||
	    r->status == ELM327_ERROR;
}

static enum obd_drv_result
elm_result(enum elm327_status st)
{
	switch (st) {
	case ELM327_DATA:
		return OBD_DRV_OK;
	case ELM327_EMPTY:
	case ELM327_NO_DATA:
	case ELM327_UNABLE_TO_CONNECT:
		return OBD_DRV_NO_DATA;
	case ELM327_CAN_ERROR:
	case ELM327_BUS_INIT_ERROR:
	case ELM327_STOPPED:
	case ELM327_UNKNOWN_COMMAND:
	case ELM327_ERROR:
	case ELM327_BUFFER_FULL:
	case ELM327_DATA_ERROR:
	case ELM327_RX_ERROR:
	case ELM327_BUS_BUSY:
	case ELM327_BUS_ERROR:
	case ELM327_FB_ERROR:
	case ELM327_ACT_ALERT:
	case ELM327_LV_RESET:
	case ELM327_LP_ALERT:
		return OBD_DRV_ERROR;
	case ELM327_OK:			/* an AT answer: out of step */
	case ELM327_TEXT:
	case ELM327_GARBAGE:
		return OBD_DRV_GARBAGE;
	}
	return OBD_DRV_GARBAGE;
}

static void
elm_on_voltage(struct elm *e, const struct elm327_reply *r)
{
	int mv;

	if (r->status == ELM327_TEXT &&
	    elm327_parse_voltage(r->text, &mv) == 0) {
		e->voltage_mv = mv;
		e->have_voltage = true;
	} else if (elm_refused(r)) {
		log_debug("obd: %s: ATRV refused, no supply voltage",
		    e->device);
		e->rv_ok = false;
	} else
		log_debug("obd: %s: ATRV answered \"%s\"", e->device,
		    r->text);
}

static void
elm_on_atz(struct elm *e, const struct elm327_reply *r)
{
	int ma, mi;

	if (r->status == ELM327_TEXT &&
	    elm327_parse_version(r->text, &ma, &mi) == 0) {
		util_strlcpy(e->adapter, r->text, sizeof(e->adapter));
		e->got_version = true;
	} else
		log_debug("obd: %s: no version in the ATZ answer", e->device);
	e->step = ELM_STEP_ATE0;
	e->sync = ELM_SYNC_PAUSE;
	ev_timer_set(e->loop, &e->settle_timer, ELM_ATZ_PAUSE_MS);
	(void)elm_report(e, OBD_INIT, "");
}

static void
elm_on_setup(struct elm *e, const struct elm327_reply *r)
{
	bool refused = elm_refused(r);

	switch (e->step) {
	case ELM_STEP_ATH1:
		/* a clone's "?" or "ERROR": it prints no CAN ids then */
		e->headers = !refused;
		if (refused && !e->h1_logged) {
			log_info("obd: %s: adapter refuses ATH1, replies are "
			    "read without CAN ids", e->device);
			e->h1_logged = true;
		}
		break;
	case ELM_STEP_ATI:
		if (r->status == ELM327_TEXT)
			util_strlcpy(e->adapter, r->text,
			    sizeof(e->adapter));
		break;
	case ELM_STEP_ATRV:
		elm_on_voltage(e, r);
		break;
	default:
		if (refused)
			log_debug("obd: %s: %s refused", e->device,
			    e->cur_text);
		break;
	}
	elm_next_step(e);
}

static void
elm_on_dpn(struct elm *e, const struct elm327_reply *r)
{
	int proto, automatic;

	if (r->status == ELM327_TEXT &&
	    elm327_parse_dpn(r->text, &proto, &automatic) == 0) {
		e->protocol_num = proto;
		if (proto != e->logged_proto && proto > 0) {
			log_info("obd: %s: vehicle protocol %X, %s",
			    e->device, (unsigned)proto,
			    elm_protocols[proto]);
			e->logged_proto = proto;
		}
		/* elm327_parse reads no legacy headers: drop them */
		if (proto >= 1 && proto <= ELM_LEGACY_MAX && e->headers)
			e->want_h0 = true;
	} else
		log_debug("obd: %s: ATDPN answered %s \"%s\"", e->device,
		    elm327_status_str(r->status), r->text);
	elm_kick(e);
}

static void
elm_on_request(struct elm *e, const struct elm327_reply *r)
{
	struct obd_drv_reply rep;
	size_t i;

	memset(&rep, 0, sizeof(rep));
	e->req = ELM_REQ_NONE;
	rep.result = elm_result(r->status);
	rep.text = elm327_status_str(r->status);
	if (rep.result == OBD_DRV_OK) {
		for (i = 0; i < r->nmsg && i < OBD_DRV_MAX_MSGS; i++) {
			rep.msg[i].id = r->msg[i].has_id ? r->msg[i].id : 0;
			rep.msg[i].data = r->msg[i].data;
			rep.msg[i].len = r->msg[i].len;
		}
		rep.nmsg = i;
		if (rep.nmsg == 0) {
			rep.result = OBD_DRV_GARBAGE;
			rep.text = "no complete message";
		}
	}
	/*
	 * No ECU answered: the ignition may have gone off, the moment the
	 * supply voltage (charging or not) tells the most.  Forget the old
	 * reading and read it again before the next request.
	 */
	if (rep.result == OBD_DRV_NO_DATA && e->rv_ok) {
		e->have_voltage = false;
		e->rv_due = true;
	}
	/* the search is over once the adapter printed anything but a
	 * status: ask which protocol it found */
	if (e->searching && (r->status == ELM327_DATA ||
	    r->status == ELM327_TEXT || r->status == ELM327_GARBAGE)) {
		e->searching = false;
		e->want_dpn = true;
	}
	elm_kick(e);
	(void)elm_deliver(e, &rep);
}

/* A complete reply (before '>') to the command on the line. */
static void
elm_reply(struct elm *e)
{
	struct elm327_reply *r = &e->reply;
	enum elm_cmd kind = e->cur;
	const char *why;
	bool was;

	(void)elm327_parse(e->ibuf, e->ilen, e->cur_text,
	    e->headers ? ELM327_F_HEADERS : 0, r);
	e->ilen = 0;
	/* the late "?" of the flush before ATZ: ATZ's answer is to come */
	if (kind == ELM_CMD_ATZ && r->status == ELM327_UNKNOWN_COMMAND)
		return;
	ev_timer_stop(e->loop, &e->cmd_timer);
	e->cur = ELM_CMD_NONE;
	e->nfail = 0;
	if (kind != ELM_CMD_ATZ &&
	    !(kind == ELM_CMD_SETUP && e->step == ELM_STEP_ATI) &&
	    (why = elm_reset_signal(r)) != NULL) {
		/* a clone printing its banner after ATZ's prompt: start
		 * again from ATE0, which it may not have heard */
		if (kind == ELM_CMD_SETUP && r->status == ELM327_TEXT &&
		    e->late_banners++ < ELM_INIT_TRIES) {
			elm_on_atz(e, r);
			return;
		}
		was = elm_unready(e);
		elm_reinit(e, why, was);
		return;
	}
	switch (kind) {
	case ELM_CMD_ATZ:
		elm_on_atz(e, r);
		break;
	case ELM_CMD_SETUP:
		elm_on_setup(e, r);
		break;
	case ELM_CMD_DPN:
		e->want_dpn = false;
		elm_on_dpn(e, r);
		break;
	case ELM_CMD_H0:
		e->want_h0 = false;
		if (!elm_refused(r))
			e->headers = false;
		elm_kick(e);
		break;
	case ELM_CMD_RV:
		elm_on_voltage(e, r);
		elm_kick(e);
		break;
	case ELM_CMD_REQUEST:
		elm_on_request(e, r);
		break;
	case ELM_CMD_NONE:
		break;
	}
}

/* Text nobody asked for: only a reset matters. */
static void
elm_idle_text(struct elm *e, bool complete)
{
	const char *why;

	if (e->phase == ELM_PH_DOWN ||
	    (!complete && e->ilen > ELM_IDLE_CHECK_MAX))
		return;
	(void)elm327_parse(e->ibuf, e->ilen, NULL, 0, &e->reply);
	if ((why = elm_reset_signal(&e->reply)) != NULL) {
		e->ilen = 0;
		elm_reinit(e, why, elm_unready(e));
		return;
	}
	if (complete) {
		log_debug("obd: %s: unsolicited reply ignored (%s)",
		    e->device, elm327_status_str(e->reply.status));
		e->ilen = 0;
	}
}

/* More than ELM327_MAX_REPLY bytes without a prompt. */
static void
elm_overflow(struct elm *e)
{
	enum elm_cmd kind = e->cur;
	bool reinit, was;

	e->cur = ELM_CMD_NONE;
	ev_timer_stop(e->loop, &e->cmd_timer);
	reinit = ++e->nfail >= ELM_MAX_FAILS;
	was = reinit ? elm_unready(e) : false;
	log_debug("obd: %s: answer to %s over %d bytes, resynchronising",
	    e->device, kind == ELM_CMD_NONE ? "nothing" : e->cur_text,
	    ELM327_MAX_REPLY);
	if (kind == ELM_CMD_REQUEST) {
		e->req = ELM_REQ_NONE;
		if (!elm_deliver_status(e, OBD_DRV_GARBAGE,
		    "reply too long"))
			return;
	}
	if (e->link != ELM_LINK_OPEN)
		return;
	if (reinit)
		elm_reinit(e, "adapter floods the line", was);
	else
		elm_start_sync(e, ELM_SYNC_RESYNC);
}

static void
elm_append(struct elm *e, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !e->overflow; i++) {
		if (p[i] == '\0')
			continue;	/* clones pad with NULs */
		if (e->ilen == sizeof(e->ibuf)) {
			e->overflow = true;
			if (e->cur != ELM_CMD_NONE)
				elm_overflow(e);
			return;
		}
		e->ibuf[e->ilen++] = p[i];
	}
}

static void
elm_sync_bytes(struct elm *e, bool talked, bool prompt)
{
	if (e->sync == ELM_SYNC_PAUSE)
		return;
	if (talked)
		ev_timer_stop(e->loop, &e->settle_timer);
	if (prompt) {
		e->sync_prompt = true;
		ev_timer_set(e->loop, &e->settle_timer, ELM_SETTLE_MS);
	}
}

static void
elm_input(struct elm *e, const char *p, size_t n)
{
	const char *gt;
	size_t seg;

	e->rx_bytes += n;
	while (n > 0 && e->link == ELM_LINK_OPEN && !e->zombie) {
		gt = memchr(p, '>', n);
		seg = gt != NULL ? (size_t)(gt - p) : n;
		if (e->sync == ELM_SYNC_NONE && seg > 0) {
			elm_append(e, p, seg);
			if (e->link != ELM_LINK_OPEN || e->zombie)
				return;
		}
		if (e->sync != ELM_SYNC_NONE)
			elm_sync_bytes(e, seg > 0, gt != NULL);
		else if (gt != NULL && e->overflow) {
			e->ilen = 0;		/* the end of an idle flood */
			e->overflow = false;
		} else if (gt != NULL && e->cur != ELM_CMD_NONE)
			elm_reply(e);
		else if (e->ilen > 0)
			elm_idle_text(e, gt != NULL);
		if (gt == NULL)
			return;
		p = gt + 1;
		n -= seg + 1;
	}
}

/* ---- loop callbacks ---------------------------------------------------- */

static void
elm_read(struct elm *e, short revents)
{
	char buf[ELM_READ_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < ELM_READS_PER_CB; i++) {
		n = read(e->fd, buf, sizeof(buf));
		if (n > 0) {
			elm_input(e, buf, (size_t)n);
			if (e->link != ELM_LINK_OPEN || e->zombie)
				return;
			continue;
		}
		if (n == 0) {
			if (e->tcp) {
				elm_fail(e, "connection closed by the adapter");
				return;
			}
			break;	/* tty, VMIN 0 VTIME 0: nothing more now */
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		elm_fail(e, strerror(errno));	/* EIO, ENXIO, ENODEV */
		return;
	}
	if (i < ELM_READS_PER_CB && (revents & (POLLHUP | POLLERR | POLLNVAL)))
		elm_fail(e, e->tcp ? "connection lost" : "device hung up");
}

static void
elm_opened(struct elm *e)
{
	log_debug("obd: %s: open, initialising the adapter", e->device);
	e->link = ELM_LINK_OPEN;
	e->init_tries = 1;
	elm_begin_init(e);
}

static void
elm_connect_done(struct elm *e)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		elm_fail(e, strerror(err));
		return;
	}
	ev_timer_stop(e->loop, &e->cmd_timer);
	(void)ev_fd_mod(e->loop, e->fd, POLLIN);
	elm_opened(e);
}

static void
elm_fd_cb(int fd, short revents, void *arg)
{
	struct elm *e = arg;

	(void)fd;
	elm_enter(e);
	if (e->link == ELM_LINK_CONNECTING)
		elm_connect_done(e);
	else if (e->link == ELM_LINK_OPEN) {
		if ((revents & POLLOUT) && e->ooff < e->olen)
			(void)elm_flush_out(e);
		if (e->link == ELM_LINK_OPEN && !e->zombie &&
		    (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
			elm_read(e, revents);
	}
	elm_leave(e);
}

static int
elm_tty_setup(struct elm *e, int fd)
{
	struct termios tio;

	if (tcgetattr(fd, &tio) == -1)
		return -1;
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(tcflag_t)(CRTSCTS | CSTOPB);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, e->speed) == -1 ||
	    cfsetospeed(&tio, e->speed) == -1 ||
	    tcsetattr(fd, TCSANOW, &tio) == -1)
		return -1;
	(void)tcflush(fd, TCIOFLUSH);
	return 0;
}

static void
elm_open_tty(struct elm *e)
{
	const char *why;
	int fd;

	fd = open(e->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		elm_fail(e, strerror(errno));	/* ENOENT, EACCES, EIO */
		return;
	}
	if (elm_tty_setup(e, fd) == -1) {
		why = errno == ENOTTY ? "not a serial device" :
		    strerror(errno);
		(void)close(fd);
		elm_fail(e, why);
		return;
	}
	if (ev_fd_add(e->loop, fd, POLLIN, elm_fd_cb, e) == -1) {
		(void)close(fd);
		elm_fail(e, "cannot watch the device");
		return;
	}
	e->fd = fd;
	elm_opened(e);
}

static void
elm_connect(struct elm *e)
{
	int fd, one = 1, err;

	fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		elm_fail(e, strerror(errno));
		return;
	}
	/* commands are a few bytes each, answered before the next */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&e->addr, e->addrlen) == -1 &&
	    errno != EINPROGRESS) {
		err = errno;
		(void)close(fd);
		elm_fail(e, strerror(err));
		return;
	}
	if (ev_fd_add(e->loop, fd, POLLOUT, elm_fd_cb, e) == -1) {
		(void)close(fd);
		elm_fail(e, "cannot watch the socket");
		return;
	}
	e->fd = fd;
	e->link = ELM_LINK_CONNECTING;
	ev_timer_set(e->loop, &e->cmd_timer, ELM_CONNECT_TIMEOUT_MS);
}

static void
elm_retry_cb(void *arg)
{
	struct elm *e = arg;

	elm_enter(e);
	if (e->link == ELM_LINK_CLOSED) {
		e->attempts++;
		if (e->config_error[0] != '\0') {
			/* no retry: only a new configuration helps */
			log_warnx("obd: %s: %s", e->device, e->config_error);
			(void)elm_report(e, OBD_DOWN, e->config_error);
		} else if (e->tcp)
			elm_connect(e);
		else
			elm_open_tty(e);
	}
	elm_leave(e);
}

/* The command on the line (or the sync) got no '>' in time. */
static void
elm_timeout(struct elm *e)
{
	enum elm_cmd kind = e->cur;
	bool reinit, was;

	e->cur = ELM_CMD_NONE;
	if (kind == ELM_CMD_ATZ) {
		elm_fail(e, "adapter does not answer ATZ");
		return;
	}
	reinit = ++e->nfail >= ELM_MAX_FAILS;
	log_debug("obd: %s: no answer to %s within %llu ms (%d in a row)",
	    e->device, kind == ELM_CMD_NONE ? "DEL DEL CR" : e->cur_text,
	    (unsigned long long)e->cur_timeout_ms, e->nfail);
	if (kind == ELM_CMD_DPN)
		e->want_dpn = false;
	else if (kind == ELM_CMD_H0)
		e->want_h0 = false;
	was = reinit ? elm_unready(e) : false;
	if (kind == ELM_CMD_REQUEST) {
		e->req = ELM_REQ_NONE;
		if (!elm_deliver_status(e, OBD_DRV_TIMEOUT, "timeout"))
			return;
		if (e->link != ELM_LINK_OPEN)
			return;
	}
	if (reinit)
		elm_reinit(e, "adapter stopped answering", was);
	else
		elm_start_sync(e, ELM_SYNC_RESYNC);
}

/* The deadline of a connect, a command or a resync. */
static void
elm_deadline(struct elm *e)
{
	if (e->link == ELM_LINK_CONNECTING)
		elm_fail(e, "connect timed out");
	else if (e->link != ELM_LINK_OPEN)
		return;
	else if (e->sync == ELM_SYNC_FLUSH || e->sync == ELM_SYNC_RESYNC) {
		/* a flush nobody answered is no failure: ATZ follows */
		if (e->sync_prompt || e->sync == ELM_SYNC_FLUSH)
			elm_sync_done(e);
		else
			elm_timeout(e);
	} else if (e->cur != ELM_CMD_NONE)
		elm_timeout(e);
}

static void
elm_cmd_timer_cb(void *arg)
{
	struct elm *e = arg;

	elm_enter(e);
	/*
	 * On a loaded system this timer may run in the turn the answer
	 * arrived: read what is there first.  A complete answer stops or
	 * re-arms the timer for the next command.
	 */
	if (e->link == ELM_LINK_OPEN)
		elm_read(e, 0);
	if (!e->zombie && !ev_timer_pending(&e->cmd_timer))
		elm_deadline(e);
	elm_leave(e);
}

static void
elm_settle_cb(void *arg)
{
	struct elm *e = arg;
	uint64_t rx = e->rx_bytes;

	elm_enter(e);
	/* bytes that came meanwhile break the quiet (and a '>' among
	 * them re-arms this timer) */
	if (e->link == ELM_LINK_OPEN)
		elm_read(e, 0);
	if (!e->zombie && e->link == ELM_LINK_OPEN &&
	    (e->sync == ELM_SYNC_PAUSE ||
	    (e->sync != ELM_SYNC_NONE && e->rx_bytes == rx)))
		elm_sync_done(e);
	elm_leave(e);
}

static void
elm_kick_cb(void *arg)
{
	struct elm *e = arg;

	elm_enter(e);
	elm_next(e);
	elm_leave(e);
}

static void
elm_rv_cb(void *arg)
{
	struct elm *e = arg;

	if (e->phase != ELM_PH_READY)
		return;
	e->rv_due = e->rv_ok;
	ev_timer_set(e->loop, &e->rv_timer, ELM_RV_PERIOD_MS);
	elm_kick(e);
}

/* ---- the driver interface --------------------------------------------- */

static void *
elm_start(struct ev_loop *loop, const struct obd_opts *o, struct obd *obd)
{
	struct elm *e;
	const char *dev = o->device != NULL ? o->device : "";
	int baud = o->baud != 0 ? o->baud : ELM_DEFAULT_BAUD;

	e = xcalloc(1, sizeof(*e));
	e->loop = loop;
	e->obd = obd;
	e->device = xstrdup(dev);
	e->fd = -1;
	e->link = ELM_LINK_CLOSED;
	e->phase = ELM_PH_DOWN;
	e->reported = OBD_OFF;
	elm_apply_opts(e, o);
	e->backoff_ms = e->retry_min_ms;
	if (dev[0] == '\0')
		util_strlcpy(e->config_error, "no device configured",
		    sizeof(e->config_error));
	else if (strncmp(dev, ELM_TCP_PREFIX, strlen(ELM_TCP_PREFIX)) == 0) {
		e->tcp = true;
		(void)elm_parse_tcp(e, dev);
	} else if (elm_speed(baud, &e->speed) == -1)
		(void)snprintf(e->config_error, sizeof(e->config_error),
		    "unsupported baud rate %d", baud);
	ev_timer_init(&e->retry_timer, elm_retry_cb, e);
	ev_timer_init(&e->cmd_timer, elm_cmd_timer_cb, e);
	ev_timer_init(&e->settle_timer, elm_settle_cb, e);
	ev_timer_init(&e->kick_timer, elm_kick_cb, e);
	ev_timer_init(&e->rv_timer, elm_rv_cb, e);
	ev_timer_set(loop, &e->retry_timer, 0);
	return e;
}

static void
elm_stop(void *drv)
{
	struct elm *e = drv;

	if (e == NULL)
		return;
	elm_close(e);
	ev_timer_stop(e->loop, &e->retry_timer);
	e->zombie = true;
	if (e->depth == 0)
		elm_destroy(e);
}

static int
elm_request(void *drv, const uint8_t *req, size_t len)
{
	struct elm *e = drv;

	if (len < 1 || len > ELM_REQ_MAX || e->zombie ||
	    e->phase != ELM_PH_READY || e->req != ELM_REQ_NONE)
		return -1;
	memcpy(e->req_buf, req, len);
	e->req_len = len;
	e->req = ELM_REQ_QUEUED;
	elm_kick(e);		/* sent, and answered, from the loop */
	return 0;
}

static void
elm_info(void *drv, struct obd_status *st)
{
	const struct elm *e = drv;
	int p = e->protocol_num;

	util_strlcpy(st->adapter, e->adapter, sizeof(st->adapter));
	st->protocol_num = p;
	util_strlcpy(st->protocol, p > 0 && (size_t)p < NELEM(elm_protocols) ?
	    elm_protocols[p] : "", sizeof(st->protocol));
}

static double
elm_voltage(void *drv)
{
	const struct elm *e = drv;

	return e->have_voltage ? (double)e->voltage_mv / ELM_MV_PER_V : NAN;
}

static void
elm_reconfigure(void *drv, const struct obd_opts *o)
{
	elm_apply_opts(drv, o);
}

const struct obd_drv_ops obd_drv_elm327 = {
	.name = "elm327",
	.start = elm_start,
	.stop = elm_stop,
	.request = elm_request,
	.info = elm_info,
	.voltage = elm_voltage,
	.reconfigure = elm_reconfigure
};
