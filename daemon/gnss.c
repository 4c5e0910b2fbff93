/* SPDX-License-Identifier: MIT */
/*
 * gnss.c - the gpsd client inside our poll() loop.
 *
 * Connection life cycle, all driven from the loop:
 *
 *   DOWN --connect_timer--> non-blocking connect() --POLLOUT--> ?WATCH
 *   --first line--> NODATA --TPVs--> NOFIX / FIX2D / FIX3D
 *   any --error, EOF, line too long, silence--> DOWN, retry after backoff
 *
 * libgps decodes every line (gps_unpack()), but the socket is ours:
 * gps_open() connects with a blocking connect(), and a gpsd whose accept
 * queue is full (a wedged gpsd after a few stale reconnects) holds that
 * connect() in the SYN retries for about two minutes, the whole loop with
 * it.  Owning the socket also gives a bounded line buffer we can see from
 * poll() (libgps keeps leftover lines where poll() cannot see them, the
 * reason for its drain-until-0 rule), and send() with MSG_NOSIGNAL.  The
 * buffer has libgps's size, 2 x GPS_JSON_RESPONSE_MAX: a longer line is
 * the same "buffer full" error gps_read() reports, and ends the session.
 *
 * The backoff (reconnect_min_ms doubling to reconnect_max_ms) is reset
 * only when the first line of a connection arrives: a gpsd that is
 * shutting down still accepts and then resets.
 *
 * The pure parts (epoch merge, validity ladder, SKY accounting, time
 * continuity) live in gnss_epoch.c.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gps.h>
#include <jansson.h>

#include "ev.h"
#include "gnss.h"
#include "gnss_epoch.h"
#include "log.h"
#include "record.h"
#include "util.h"

#if GPSD_API_MAJOR_VERSION < 10
#error "need gpsd >= 3.21 (libgps API 10)"
#endif
#ifndef STATUS_UNK			/* renamed in 3.23.1; fix.status unused */
#define STATUS_UNK	STATUS_NO_FIX
#define STATUS_GPS	STATUS_FIX
#define STATUS_DGPS	STATUS_DGPS_FIX
#endif
#ifndef GPS_JSON_RESPONSE_MAX		/* in gps.h only from 3.25 */
#define GPS_JSON_RESPONSE_MAX	10240
#endif

#define GNSS_DEFAULT_HOST	"127.0.0.1"
#define GNSS_DEFAULT_PORT	2947
#define GNSS_PORT_MAX		65535
#define GNSS_BACKOFF_MIN_MS	250	/* default first retry */
#define GNSS_RECONNECT_MAX_MS	10000	/* default backoff cap */
#define GNSS_STALE_MS		30000	/* default silence before reconnect */
/* libgps's own line buffer size: the longest line gps_read() accepts. */
#define GNSS_LINE_MAX		(2 * GPS_JSON_RESPONSE_MAX)
/* gpsd's WATCH command: "?WATCH=" + JSON object + ";\n". */
#define GNSS_WATCH_PREFIX	"?WATCH="
#define GNSS_WATCH_SUFFIX	";\n"
/* An epoch's TPVs arrive within a few ms; emit 250 ms after the last. */
#define GNSS_SETTLE_MS		250
/* No TPV for this long: the position reports have stopped (NODATA). */
#define GNSS_TPV_TIMEOUT_MS	3000
/* No accepted epoch for this long while TPVs arrive: no fix (NOFIX). */
#define GNSS_NOFIX_MS		3000
/*
 * Lines per drain before yielding to the loop (bounded work per turn).
 * The rest is drained from a timer 1 ms later: a 0 ms timer re-armed from
 * its own callback would fire again in the same turn, before poll().
 */
#define GNSS_DRAIN_MAX		256
#define GNSS_DRAIN_YIELD_MS	1
/* Time-step log lines at info per window; the rest go to debug. */
#define GNSS_STEP_LOG_MAX	5
#define GNSS_STEP_LOG_WINDOW_MS	60000
#define MS_PER_S		1000.0

enum gnss_conn {
	GNSS_CONN_IDLE,		/* no socket; connect_timer may be armed */
	GNSS_CONN_CONNECTING,	/* connect() in progress, POLLOUT watched */
	GNSS_CONN_OPEN		/* ?WATCH sent, POLLIN watched */
};

enum gnss_class {
	GNSS_CLASS_JUNK,	/* not a JSON object with a "class" */
	GNSS_CLASS_OTHER,
	GNSS_CLASS_TPV,
	GNSS_CLASS_SKY,
	GNSS_CLASS_DEVICE,
	GNSS_CLASS_ERROR
};

struct gnss {
	struct ev_loop	*loop;
	char		*host;
	char		 port[8];
	char		*peer;			/* "host:port" for logs */
	double		 max_hdop;
	double		 max_eph_m;
	uint32_t	 reconnect_min_ms;
	uint32_t	 reconnect_max_ms;
	uint32_t	 stale_ms;
	gnss_fix_cb	*cb;
	void		*cb_arg;

	enum gnss_conn	 conn;
	int		 fd;			/* -1 when IDLE */
	struct addrinfo	*ai_list;		/* this attempt's addresses */
	struct addrinfo	*ai_next;		/* next one to try */
	bool		 got_line;		/* this connection sent a line */
	bool		 ever_connected;
	bool		 outage;		/* loss logged, recovery due */
	bool		 stale;			/* silence logged, recovery due */
	bool		 device_off;		/* deactivation logged */
	uint32_t	 backoff_ms;		/* delay of the next retry */
	uint64_t	 attempts;		/* since the last good connect */
	uint64_t	 last_fix_mono_ms;	/* this session, 0 if none */
	uint64_t	 step_window_ms;
	int		 step_logged;

	struct ev_timer	 connect_timer;
	struct ev_timer	 drain_timer;
	struct ev_timer	 settle_timer;
	struct ev_timer	 stale_timer;
	struct ev_timer	 tpv_timer;

	struct gnss_epoch	epoch;
	struct gnss_sky		sky;
	struct gnss_continuity	cont;
	struct gnss_status	st;

	struct gps_data_t gd;			/* decode target, ~24 KB */
	size_t		 rlen;			/* bytes in rbuf */
	char		 rbuf[GNSS_LINE_MAX + 1];	/* + NUL */
};

static void	gnss_connect_cb(void *);
static void	gnss_drain_cb(void *);
static void	gnss_settle_cb(void *);
static void	gnss_stale_cb(void *);
static void	gnss_tpv_timeout_cb(void *);
static void	gnss_fd_cb(int, short, void *);

const char *
gnss_state_name(enum gnss_state s)
{
	switch (s) {
	case GNSS_DOWN:
		return "down";
	case GNSS_NODATA:
		return "nodata";
	case GNSS_NOFIX:
		return "nofix";
	case GNSS_FIX2D:
		return "fix2d";
	case GNSS_FIX3D:
		return "fix3d";
	}
	return "unknown";
}

static bool
state_is_fix(enum gnss_state s)
{
	return s == GNSS_FIX2D || s == GNSS_FIX3D;
}

/* Logs the changes a technician cares about, once each. */
static void
gnss_set_state(struct gnss *g, enum gnss_state s)
{
	enum gnss_state old = g->st.state;

	if (old == s)
		return;
	g->st.state = s;
	switch (s) {
	case GNSS_DOWN:
		break;		/* the connection code logs why */
	case GNSS_NODATA:
		/* a deactivated device was logged as such */
		if (old != GNSS_DOWN && !g->device_off)
			log_info("gnss: %s: no position reports", g->peer);
		break;
	case GNSS_NOFIX:
		log_info("gnss: %s: no fix", g->peer);
		break;
	case GNSS_FIX2D:
	case GNSS_FIX3D:
		if (state_is_fix(old))
			log_debug("gnss: %s: fix now %s", g->peer,
			    gnss_state_name(s));
		else
			log_info("gnss: %s: fix acquired (%s)", g->peer,
			    s == GNSS_FIX3D ? "3D" : "2D");
		break;
	}
}

static void
gnss_apply_opts(struct gnss *g, const struct gnss_opts *o)
{
	const char *host = o->host != NULL && o->host[0] != '\0' ?
	    o->host : GNSS_DEFAULT_HOST;
	int port = o->port > 0 && o->port <= GNSS_PORT_MAX ?
	    o->port : GNSS_DEFAULT_PORT;

	free(g->host);
	free(g->peer);
	g->host = xstrdup(host);
	(void)snprintf(g->port, sizeof(g->port), "%d", port);
	g->peer = strchr(host, ':') != NULL ?
	    xasprintf("[%s]:%d", host, port) : xasprintf("%s:%d", host, port);
	g->max_hdop = o->max_hdop;
	g->max_eph_m = o->max_eph_m;
	g->reconnect_min_ms = o->reconnect_min_ms != 0 ?
	    o->reconnect_min_ms : GNSS_BACKOFF_MIN_MS;
	g->reconnect_max_ms = o->reconnect_max_ms != 0 ?
	    o->reconnect_max_ms : GNSS_RECONNECT_MAX_MS;
	if (g->reconnect_max_ms < g->reconnect_min_ms)
		g->reconnect_max_ms = g->reconnect_min_ms;
	g->stale_ms = o->stale_ms != 0 ? o->stale_ms : GNSS_STALE_MS;
}

static void
gnss_reset_session(struct gnss *g)
{
	gnss_epoch_reset(&g->epoch);
	gnss_sky_reset(&g->sky);
	gnss_continuity_reset(&g->cont);
	g->device_off = false;
	g->last_fix_mono_ms = 0;
}

struct gnss *
gnss_new(struct ev_loop *loop, const struct gnss_opts *opts, gnss_fix_cb *cb,
    void *arg)
{
	struct gnss *g;

	g = xcalloc(1, sizeof(*g));
	g->loop = loop;
	g->cb = cb;
	g->cb_arg = arg;
	gnss_apply_opts(g, opts);
	g->backoff_ms = g->reconnect_min_ms;
	g->conn = GNSS_CONN_IDLE;
	g->fd = -1;
	g->st.state = GNSS_DOWN;
	g->st.sats_used = -1;
	g->st.sats_visible = -1;
	gnss_reset_session(g);
	ev_timer_init(&g->connect_timer, gnss_connect_cb, g);
	ev_timer_init(&g->drain_timer, gnss_drain_cb, g);
	ev_timer_init(&g->settle_timer, gnss_settle_cb, g);
	ev_timer_init(&g->stale_timer, gnss_stale_cb, g);
	ev_timer_init(&g->tpv_timer, gnss_tpv_timeout_cb, g);
	ev_timer_set(g->loop, &g->connect_timer, 0);
	return g;
}

static void
gnss_stop_timers(struct gnss *g)
{
	ev_timer_stop(g->loop, &g->connect_timer);
	ev_timer_stop(g->loop, &g->drain_timer);
	ev_timer_stop(g->loop, &g->settle_timer);
	ev_timer_stop(g->loop, &g->stale_timer);
	ev_timer_stop(g->loop, &g->tpv_timer);
}

static void
gnss_close_socket(struct gnss *g)
{
	if (g->fd != -1) {
		ev_fd_del(g->loop, g->fd);
		(void)close(g->fd);
		g->fd = -1;
	}
	if (g->ai_list != NULL) {
		freeaddrinfo(g->ai_list);
		g->ai_list = NULL;
		g->ai_next = NULL;
	}
	g->conn = GNSS_CONN_IDLE;
	g->rlen = 0;
}

void
gnss_free(struct gnss *g)
{
	if (g == NULL)
		return;
	gnss_stop_timers(g);
	gnss_close_socket(g);
	free(g->host);
	free(g->peer);
	free(g);
}

static void
gnss_emit(struct gnss *g, const struct gnss_tpv *ep)
{
	struct fix fix;
	enum gnss_verdict v;
	int64_t dg, dm;
	uint64_t now = ev_now_ms(g->loop);
	bool info;

	v = gnss_epoch_judge(ep, &g->sky, g->max_hdop, g->max_eph_m,
	    now, &fix);
	if (v != GNSS_VERDICT_FIX) {
		g->st.rejected++;
		log_debug("gnss: %s: epoch %lld rejected: %s (mode %d)",
		    g->peer, (long long)ep->t_utc_ms, gnss_verdict_name(v),
		    ep->mode);
		/* one bad epoch in a good run is not a lost fix */
		if (!state_is_fix(g->st.state) ||
		    now - g->last_fix_mono_ms >= GNSS_NOFIX_MS)
			gnss_set_state(g, GNSS_NOFIX);
		return;
	}
	if (gnss_continuity_check(&g->cont, fix.t_utc_ms, now, &dg, &dm)) {
		g->st.time_steps++;
		if (now - g->step_window_ms > GNSS_STEP_LOG_WINDOW_MS ||
		    g->step_window_ms == 0) {
			g->step_window_ms = now;
			g->step_logged = 0;
		}
		info = g->step_logged++ < GNSS_STEP_LOG_MAX;
		if (dg < 0) {
			if (info)
				log_info("gnss: time stepped back %.1f s",
				    (double)-dg / MS_PER_S);
			else
				log_debug("gnss: time stepped back %.1f s",
				    (double)-dg / MS_PER_S);
		} else if (info) {
			log_info("gnss: time jumped %s %.1f s against the "
			    "monotonic clock", dg > dm ? "forward" : "back",
			    fabs((double)(dg - dm)) / MS_PER_S);
		} else {
			log_debug("gnss: time jumped %.1f s against the "
			    "monotonic clock", (double)(dg - dm) / MS_PER_S);
		}
	}
	g->st.fixes++;
	g->st.last_fix_utc_ms = fix.t_utc_ms;
	g->last_fix_mono_ms = now;
	gnss_set_state(g, fix.mode == 3 ? GNSS_FIX3D : GNSS_FIX2D);
	if (g->cb != NULL)
		g->cb(&fix, g->cb_arg);
}

static void
gnss_flush(struct gnss *g)
{
	struct gnss_tpv done;

	ev_timer_stop(g->loop, &g->settle_timer);
	if (gnss_epoch_finish(&g->epoch, &done))
		gnss_emit(g, &done);
}

/*
 * Closes the session; the caller schedules the retry.  The socket goes
 * first, so a fix callback run by the flush sees a closed session.
 */
static void
gnss_close(struct gnss *g)
{
	if (g->conn == GNSS_CONN_IDLE)
		return;
	gnss_close_socket(g);
	ev_timer_stop(g->loop, &g->drain_timer);
	ev_timer_stop(g->loop, &g->stale_timer);
	ev_timer_stop(g->loop, &g->tpv_timer);
	gnss_flush(g);
	gnss_reset_session(g);
	gnss_set_state(g, GNSS_DOWN);
}

static void
gnss_schedule_connect(struct gnss *g)
{
	ev_timer_set(g->loop, &g->connect_timer, g->backoff_ms);
	g->backoff_ms = g->backoff_ms > g->reconnect_max_ms / 2 ?
	    g->reconnect_max_ms : g->backoff_ms * 2;
}

static void
gnss_connect_failed(struct gnss *g, const char *reason)
{
	if (!g->outage) {
		log_warnx("gnss: %s: cannot connect (%s), retrying", g->peer,
		    reason);
		g->outage = true;
	} else
		log_debug("gnss: %s: cannot connect (%s)", g->peer, reason);
	gnss_set_state(g, GNSS_DOWN);
	gnss_schedule_connect(g);
}

static void
gnss_lost(struct gnss *g, const char *reason)
{
	if (g->got_line)
		g->st.reconnects++;
	gnss_close(g);
	if (!g->outage) {
		log_warnx("gnss: %s: connection lost (%s), reconnecting",
		    g->peer, reason);
		g->outage = true;
	} else
		log_debug("gnss: %s: connection lost (%s)", g->peer, reason);
	gnss_schedule_connect(g);
}

/* Connected: ask for JSON reports, then wait for lines. */
/* "?WATCH={"enable":true,"json":true};\n"; caller frees. */
static char *
gnss_watch_command(void)
{
	json_t	*o;
	char	*body, *cmd;

	o = json_pack("{s:b, s:b}", "enable", 1, "json", 1);
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("gnss: out of memory");
	json_decref(o);
	cmd = xasprintf("%s%s%s", GNSS_WATCH_PREFIX, body, GNSS_WATCH_SUFFIX);
	free(body);
	return cmd;
}

static void
gnss_opened(struct gnss *g)
{
	char	*cmd;
	ssize_t n;
	size_t	 len;

	freeaddrinfo(g->ai_list);
	g->ai_list = NULL;
	g->ai_next = NULL;
	/* What gps_stream(WATCH_ENABLE | WATCH_JSON) sends, built by jansson. */
	cmd = gnss_watch_command();
	len = strlen(cmd);
	n = send(g->fd, cmd, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(cmd);
	if (n != (ssize_t)len) {
		gnss_lost(g, n == -1 ? strerror(errno) : "short write");
		return;
	}
	if (ev_fd_mod(g->loop, g->fd, POLLIN) == -1) {
		gnss_lost(g, "cannot watch the socket");
		return;
	}
	log_debug("gnss: %s: socket open, waiting for gpsd", g->peer);
	g->conn = GNSS_CONN_OPEN;
	g->got_line = false;
	g->rlen = 0;
	memset(&g->gd, 0, sizeof(g->gd));
	gnss_reset_session(g);
	gnss_set_state(g, GNSS_NODATA);
	ev_timer_set(g->loop, &g->stale_timer, g->stale_ms);
}

/*
 * Tries the remaining addresses of this attempt ("localhost" may give ::1
 * and 127.0.0.1).  connect() on a non-blocking socket returns at once; a
 * pending one finishes in gnss_fd_cb() or times out after stale_ms.
 */
static void
gnss_connect_next(struct gnss *g, const char *why)
{
	struct addrinfo *ai;
	int fd;

	if (g->fd != -1) {
		ev_fd_del(g->loop, g->fd);
		(void)close(g->fd);
		g->fd = -1;
	}
	while ((ai = g->ai_next) != NULL) {
		g->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			why = strerror(errno);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			why = strerror(errno);
			(void)close(fd);
			continue;
		}
		if (ev_fd_add(g->loop, fd, POLLOUT, gnss_fd_cb, g) == -1) {
			why = "cannot watch the socket";
			(void)close(fd);
			continue;
		}
		g->fd = fd;
		g->conn = GNSS_CONN_CONNECTING;
		ev_timer_set(g->loop, &g->stale_timer, g->stale_ms);
		return;
	}
	gnss_close_socket(g);
	ev_timer_stop(g->loop, &g->stale_timer);
	gnss_connect_failed(g, why);
}

static void
gnss_connect_cb(void *arg)
{
	struct gnss *g = arg;
	struct addrinfo hints;
	int rc;

	if (g->conn != GNSS_CONN_IDLE)
		return;
	g->st.progress++;
	g->attempts++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* instant for addresses and /etc/hosts names (keep gpsd local) */
	rc = getaddrinfo(g->host, g->port, &hints, &g->ai_list);
	if (rc != 0) {
		g->ai_list = NULL;
		gnss_connect_failed(g, gai_strerror(rc));
		return;
	}
	g->ai_next = g->ai_list;
	gnss_connect_next(g, "no address");
}

/* POLLOUT on a connecting socket: connect() finished, one way or other. */
static void
gnss_connect_done(struct gnss *g)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		gnss_connect_next(g, strerror(err));
		return;
	}
	gnss_opened(g);
}

static void
gnss_first_line(struct gnss *g)
{
	g->got_line = true;
	g->backoff_ms = g->reconnect_min_ms;
	if (g->outage)
		log_info("gnss: %s: connected after %llu attempt%s", g->peer,
		    (unsigned long long)g->attempts,
		    g->attempts == 1 ? "" : "s");
	else if (!g->ever_connected)
		log_info("gnss: %s: connected", g->peer);
	else
		log_debug("gnss: %s: connected", g->peer);
	g->outage = false;
	g->ever_connected = true;
	g->attempts = 0;
}

/*
 * The line's class, from a real JSON parse.  libgps's own JSON reader
 * never returns on some malformed lines (the fuzzer found
 * {A"class":"TPV"}), so only lines jansson accepts as an object reach
 * gps_unpack(); anything else is GNSS_CLASS_JUNK.
 */
static enum gnss_class
gnss_classify(const json_t *o)
{
	static const struct {
		const char	*name;
		enum gnss_class	 cls;
	} names[] = {
		{ "TPV", GNSS_CLASS_TPV },
		{ "SKY", GNSS_CLASS_SKY },
		{ "DEVICE", GNSS_CLASS_DEVICE },
		{ "ERROR", GNSS_CLASS_ERROR },
	};
	const char *cls;
	size_t i;

	if ((cls = json_string_value(json_object_get(o, "class"))) == NULL)
		return GNSS_CLASS_JUNK;
	for (i = 0; i < NELEM(names); i++)
		if (strcmp(cls, names[i].name) == 0)
			return names[i].cls;
	return GNSS_CLASS_OTHER;
}

static int64_t
gnss_timespec_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 500000) / 1000000;
}

static void
gnss_tpv_from_gd(const struct gps_data_t *gd, struct gnss_tpv *t)
{
	const struct gps_fix_t *f = &gd->fix;

	gnss_tpv_clear(t);
	if ((gd->set & MODE_SET) && f->mode != MODE_NOT_SEEN) {
		t->flags |= GNSS_TPV_MODE;
		t->mode = f->mode;
	}
	if ((gd->set & TIME_SET) && f->time.tv_sec != 0) {
		t->flags |= GNSS_TPV_TIME;
		t->t_utc_ms = gnss_timespec_ms(&f->time);
	}
	if ((gd->set & LATLON_SET) && isfinite(f->latitude) &&
	    isfinite(f->longitude)) {
		t->flags |= GNSS_TPV_LATLON;
		t->lat_deg = f->latitude;
		t->lon_deg = f->longitude;
	}
	if ((gd->set & ALTITUDE_SET) && isfinite(f->altMSL)) {
		t->flags |= GNSS_TPV_ALT;
		t->alt_msl_m = f->altMSL;
	}
	if ((gd->set & SPEED_SET) && isfinite(f->speed)) {
		t->flags |= GNSS_TPV_SPEED;
		t->speed_mps = f->speed;
	}
	if ((gd->set & TRACK_SET) && isfinite(f->track)) {
		t->flags |= GNSS_TPV_TRACK;
		t->track_deg = f->track;
	}
	/* libgps resets eph to NaN for every TPV that lacks it */
	if (isfinite(f->eph)) {
		t->flags |= GNSS_TPV_EPH;
		t->eph_m = f->eph;
	}
}

static void
gnss_reports_flowing(struct gnss *g)
{
	if (g->stale) {
		log_info("gnss: %s: receiving reports again", g->peer);
		g->stale = false;
	}
}

static void
gnss_on_tpv(struct gnss *g)
{
	struct gnss_tpv t, done;

	gnss_reports_flowing(g);
	ev_timer_set(g->loop, &g->tpv_timer, GNSS_TPV_TIMEOUT_MS);
	gnss_tpv_from_gd(&g->gd, &t);
	switch (gnss_epoch_add(&g->epoch, &t, &done)) {
	case GNSS_EPOCH_NEXT:
		gnss_emit(g, &done);
		break;
	case GNSS_EPOCH_LATE:
		log_debug("gnss: %s: late TPV for an emitted epoch dropped",
		    g->peer);
		return;
	case GNSS_EPOCH_OPENED:
	case GNSS_EPOCH_MERGED:
		break;
	}
	if (g->conn == GNSS_CONN_OPEN && g->epoch.open)
		ev_timer_set(g->loop, &g->settle_timer, GNSS_SETTLE_MS);
}

static void
gnss_on_sky(struct gnss *g, bool has_sats)
{
	const struct gps_data_t *gd = &g->gd;
	uint64_t now = ev_now_ms(g->loop);
	size_t i, n;

	gnss_reports_flowing(g);
	gnss_sky_hdop(&g->sky, gd->dop.hdop, now);
	/* a SKY with DOPs only keeps the last satellite counts */
	if (!has_sats)
		return;
	n = gd->satellites_visible > 0 ? (size_t)gd->satellites_visible : 0;
	if (n > NELEM(gd->skyview))
		n = NELEM(gd->skyview);
	gnss_sky_sats_begin(&g->sky);
	for (i = 0; i < n; i++)
		gnss_sky_sats_add(&g->sky, gd->skyview[i].gnssid,
		    gd->skyview[i].PRN, gd->skyview[i].svid,
		    gd->skyview[i].used);
	gnss_sky_sats_end(&g->sky, now);
}

static void
gnss_on_device(struct gnss *g, bool off, bool on)
{
	const char *path = g->gd.dev.path;
	int len = (int)strnlen(path, sizeof(g->gd.dev.path));

	if (off) {
		/* receiver unplugged, or gpsfake reached the end */
		gnss_flush(g);
		if (!g->device_off) {
			log_info("gnss: %s: device %.*s deactivated", g->peer,
			    len, path);
			g->device_off = true;
		}
		ev_timer_stop(g->loop, &g->tpv_timer);
		if (g->conn == GNSS_CONN_OPEN)
			gnss_set_state(g, GNSS_NODATA);
	} else if (g->device_off && on) {
		log_info("gnss: %s: device %.*s activated", g->peer, len,
		    path);
		g->device_off = false;
	}
}

/*
 * One line, NUL-terminated, without its newline.  Classified on the raw
 * text first (gpsd writes "class" first), then decoded by libgps into a
 * cleared set: a SKY only ORs its bit into set, so stale TPV bits would
 * otherwise survive.
 */
/*
 * libgps's JSON reader also never returns on some *valid* JSON that gpsd
 * would not send, such as a TPV with an array of objects inside (found
 * by the fuzzer).  So gps_unpack() only ever sees a flat object rebuilt
 * by jansson: scalar members kept, arrays and objects dropped, except a
 * SKY's "satellites", kept as an array of flat objects.  Caller frees.
 */
static char *
gnss_flatten(const json_t *o, bool sky)
{
	json_t *flat, *sats, *sat, *v, *sv, *m;
	const char *key, *skey;
	char *text;
	size_t i;

	flat = json_object();
	json_object_foreach((json_t *)o, key, v) {
		if (sky && strcmp(key, "satellites") == 0 &&
		    json_is_array(v)) {
			sats = json_array();
			json_array_foreach(v, i, sat) {
				if (!json_is_object(sat))
					continue;
				m = json_object();
				json_object_foreach(sat, skey, sv)
					if (!json_is_array(sv) &&
					    !json_is_object(sv))
						json_object_set(m, skey, sv);
				json_array_append_new(sats, m);
			}
			json_object_set_new(flat, key, sats);
		} else if (!json_is_array(v) && !json_is_object(v))
			json_object_set(flat, key, v);
	}
	if ((text = json_dumps(flat, JSON_COMPACT)) == NULL)
		fatalx("gnss: out of memory");
	json_decref(flat);
	return text;
}

void
gnss_feed_line(struct gnss *g, char *line)
{
	enum gnss_class cls;
	json_t *o, *act;
	json_error_t jerr;
	char *clean;
	bool sats = false, dev_off = false, dev_on = false;

	g->st.progress++;
	if (!g->got_line)
		gnss_first_line(g);
	o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	cls = json_is_object(o) ? gnss_classify(o) : GNSS_CLASS_JUNK;
	if (cls == GNSS_CLASS_SKY)
		sats = json_is_array(json_object_get(o, "satellites"));
	else if (cls == GNSS_CLASS_DEVICE) {
		act = json_object_get(o, "activated");
		dev_off = json_is_number(act) && json_number_value(act) == 0;
		dev_on = json_is_string(act);
	}
	switch (cls) {
	case GNSS_CLASS_JUNK:
		json_decref(o);
		g->st.junk++;
		log_debug("gnss: %s: ignoring a line that is not a JSON "
		    "object: %.80s", g->peer, line);
		return;
	case GNSS_CLASS_ERROR:
		json_decref(o);
		log_debug("gnss: %s: gpsd error: %.200s", g->peer, line);
		return;
	case GNSS_CLASS_OTHER:
		json_decref(o);
		return;		/* VERSION, DEVICES, WATCH, ... */
	case GNSS_CLASS_TPV:
	case GNSS_CLASS_SKY:
	case GNSS_CLASS_DEVICE:
		break;
	}
	clean = gnss_flatten(o, cls == GNSS_CLASS_SKY);
	json_decref(o);
	g->gd.set = 0;
	(void)gps_unpack(clean, &g->gd);
	free(clean);
	switch (cls) {
	case GNSS_CLASS_TPV:
		gnss_on_tpv(g);
		break;
	case GNSS_CLASS_SKY:
		gnss_on_sky(g, sats);
		break;
	case GNSS_CLASS_DEVICE:
		gnss_on_device(g, dev_off, dev_on);
		break;
	case GNSS_CLASS_JUNK:
	case GNSS_CLASS_ERROR:
	case GNSS_CLASS_OTHER:
		break;
	}
}

/*
 * Handles the complete lines in rbuf, then reads more, until recv()
 * would block.  At most GNSS_DRAIN_MAX lines per call: the rest waits in
 * rbuf for the drain timer, so a flood cannot starve the loop.
 */
static void
gnss_drain(struct gnss *g)
{
	char *line, *nl;
	size_t off = 0;
	ssize_t n;
	int lines = 0;

	for (;;) {
		while ((nl = memchr(g->rbuf + off, '\n', g->rlen - off)) !=
		    NULL) {
			if (lines == GNSS_DRAIN_MAX) {
				ev_timer_set(g->loop, &g->drain_timer,
				    GNSS_DRAIN_YIELD_MS);
				goto out;
			}
			line = g->rbuf + off;
			off = (size_t)(nl - g->rbuf) + 1;
			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			lines++;
			gnss_feed_line(g, line);
			if (g->conn != GNSS_CONN_OPEN)
				return;	/* reconfigured from the fix callback */
		}
		if (off > 0) {
			memmove(g->rbuf, g->rbuf + off, g->rlen - off);
			g->rlen -= off;
			off = 0;
		}
		if (g->rlen == GNSS_LINE_MAX) {
			gnss_lost(g, "line too long");
			return;
		}
		n = recv(g->fd, g->rbuf + g->rlen, GNSS_LINE_MAX - g->rlen, 0);
		if (n > 0) {
			g->rlen += (size_t)n;
			continue;
		}
		if (n == 0) {
			gnss_lost(g, "closed by gpsd");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		gnss_lost(g, strerror(errno));
		return;
	}
out:
	if (off > 0) {
		memmove(g->rbuf, g->rbuf + off, g->rlen - off);
		g->rlen -= off;
	}
	if (lines > 0)
		ev_timer_set(g->loop, &g->stale_timer, g->stale_ms);
}

static void
gnss_fd_cb(int fd, short revents, void *arg)
{
	struct gnss *g = arg;

	(void)fd;
	(void)revents;	/* errors and hang-ups show in recv() and SO_ERROR */
	if (g->conn == GNSS_CONN_CONNECTING)
		gnss_connect_done(g);
	else if (g->conn == GNSS_CONN_OPEN)
		gnss_drain(g);
}

static void
gnss_drain_cb(void *arg)
{
	struct gnss *g = arg;

	if (g->conn == GNSS_CONN_OPEN)
		gnss_drain(g);
}

static void
gnss_settle_cb(void *arg)
{
	gnss_flush(arg);
}

static void
gnss_stale_cb(void *arg)
{
	struct gnss *g = arg;

	if (g->conn == GNSS_CONN_CONNECTING) {
		/* a listener that does not accept: SYNs go unanswered */
		gnss_connect_next(g, "connect timed out");
		return;
	}
	if (g->got_line)
		g->st.reconnects++;
	gnss_close(g);
	if (!g->stale && !g->outage)
		log_warnx("gnss: %s: no data for %u ms, reconnecting",
		    g->peer, (unsigned)g->stale_ms);
	else
		log_debug("gnss: %s: no data for %u ms", g->peer,
		    (unsigned)g->stale_ms);
	g->stale = true;
	gnss_schedule_connect(g);
}

static void
gnss_tpv_timeout_cb(void *arg)
{
	struct gnss *g = arg;

	gnss_flush(g);
	if (g->conn == GNSS_CONN_OPEN)
		gnss_set_state(g, GNSS_NODATA);
}

void
gnss_reconfigure(struct gnss *g, const struct gnss_opts *opts)
{
	char *old_peer = xstrdup(g->peer);
	bool moved;

	gnss_apply_opts(g, opts);
	moved = strcmp(old_peer, g->peer) != 0;
	free(old_peer);
	if (!moved) {
		if (g->conn == GNSS_CONN_OPEN)
			ev_timer_set(g->loop, &g->stale_timer, g->stale_ms);
		if (g->backoff_ms < g->reconnect_min_ms)
			g->backoff_ms = g->reconnect_min_ms;
		if (g->backoff_ms > g->reconnect_max_ms)
			g->backoff_ms = g->reconnect_max_ms;
		return;
	}
	log_info("gnss: %s: new gpsd address, connecting", g->peer);
	gnss_close(g);
	g->outage = false;
	g->stale = false;
	g->ever_connected = false;	/* log the new peer's "connected" */
	g->attempts = 0;
	g->backoff_ms = g->reconnect_min_ms;
	ev_timer_set(g->loop, &g->connect_timer, 0);
}

void
gnss_get_status(const struct gnss *g, struct gnss_status *st)
{
	uint64_t now = ev_now_ms(g->loop);

	*st = g->st;
	if (gnss_sky_sats_now(&g->sky, now)) {
		st->sats_used = g->sky.used;
		st->sats_visible = g->sky.visible;
		memcpy(st->sys, g->sky.sys, sizeof(st->sys));
	} else {
		st->sats_used = -1;
		st->sats_visible = -1;
		memset(st->sys, 0, sizeof(st->sys));
	}
}
