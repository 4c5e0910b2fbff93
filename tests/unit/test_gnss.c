/* SPDX-License-Identifier: MIT */
/*
 * test_gnss.c - the gpsd adapter against a scripted fake gpsd.
 *
 * The fake gpsd is a forked child serving one script on 127.0.0.1: it
 * accepts, speaks the gpsd 3.22 handshake (VERSION, then DEVICES and WATCH
 * after the client's ?WATCH), writes hand-composed TPV/SKY/DEVICE lines
 * shaped like gpsd 3.22's, pauses, closes and accepts again.  The adapter
 * runs in a real ev loop; every wait is on a condition with a deadline.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ev.h"
#include "gnss.h"
#include "util.h"
#include "log.h"
#include "record.h"

#define T0_MS		INT64_C(1772432045000)	/* 2026-03-02T06:14:05Z */
#define MAX_FIXES	64
#define MAX_LINES	64
#define LINE_MAX_LEN	2048
#define WAIT_MS		5000
#define MAX_SERVERS	4
#define DEVICE_PATH	"/dev/ttyUSB0"

/* ---- fake gpsd -------------------------------------------------------- */

enum srv_op {
	SRV_ACCEPT,		/* accept and do the gpsd handshake */
	SRV_ACCEPT_SILENT,	/* accept and say nothing */
	SRV_SEND,		/* write data */
	SRV_PAUSE,		/* sleep ms: pacing of the script */
	SRV_CLOSE,		/* close the connection */
	SRV_WAIT_EOF		/* read until the client closes */
};

struct srv_step {
	enum srv_op	 op;
	const char	*data;
	int		 ms;
};

#define ACCEPT()	{ SRV_ACCEPT, NULL, 0 }
#define ACCEPT_SILENT()	{ SRV_ACCEPT_SILENT, NULL, 0 }
#define SEND(s)		{ SRV_SEND, (s), 0 }
#define PAUSE(n)	{ SRV_PAUSE, NULL, (n) }
#define CLOSE()		{ SRV_CLOSE, NULL, 0 }
#define WAIT_EOF()	{ SRV_WAIT_EOF, NULL, 0 }

static const char version_line[] =
    "{\"class\":\"VERSION\",\"release\":\"3.22\",\"rev\":\"3.22\","
    "\"proto_major\":3,\"proto_minor\":14}\n";
static const char watch_reply[] =
    "{\"class\":\"DEVICES\",\"devices\":[{\"class\":\"DEVICE\","
    "\"path\":\"" DEVICE_PATH "\",\"driver\":\"NMEA0183\","
    "\"activated\":\"2026-03-02T06:14:00.102Z\",\"native\":0,"
    "\"bps\":9600,\"parity\":\"N\",\"stopbits\":1,\"cycle\":1.00}]}\n"
    "{\"class\":\"WATCH\",\"enable\":true,\"json\":true,\"nmea\":false,"
    "\"raw\":0,\"scaled\":false,\"timing\":false,\"split24\":false,"
    "\"pps\":false}\n";
static const char device_off_line[] =
    "{\"class\":\"DEVICE\",\"path\":\"" DEVICE_PATH "\",\"activated\":0}\n";

static void
srv_write(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Read what the client sent (its ?WATCH) so a close is a FIN, not a RST. */
static void
srv_read_command(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[512];
	ssize_t n;

	while (poll(&pfd, 1, timeout_ms) == 1) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || memchr(buf, '\n', (size_t)n) != NULL)
			return;
	}
}

static void
srv_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void __attribute__((noreturn))
srv_child(int lfd, const struct srv_step *steps, size_t n, pid_t parent)
{
	char buf[512];
	size_t i;
	int fd, c = -1, one = 1;

	/* a test killed by its timeout runs no .fini: die with it */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	signal(SIGPIPE, SIG_IGN);
	/* the test's sockets must not stay open in here */
	for (fd = 3; fd < 1024; fd++)
		if (fd != lfd)
			(void)close(fd);
	for (i = 0; i < n; i++) {
		switch (steps[i].op) {
		case SRV_ACCEPT:
		case SRV_ACCEPT_SILENT:
			if ((c = accept(lfd, NULL, NULL)) == -1)
				_exit(2);
			(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			if (steps[i].op == SRV_ACCEPT_SILENT)
				break;
			srv_write(c, version_line, strlen(version_line));
			srv_read_command(c, 2000);
			srv_write(c, watch_reply, strlen(watch_reply));
			break;
		case SRV_SEND:
			srv_write(c, steps[i].data, strlen(steps[i].data));
			break;
		case SRV_PAUSE:
			srv_sleep_ms(steps[i].ms);
			break;
		case SRV_CLOSE:
			(void)close(c);
			c = -1;
			break;
		case SRV_WAIT_EOF:
			while (read(c, buf, sizeof(buf)) > 0)
				;
			(void)close(c);
			c = -1;
			break;
		}
	}
	for (;;)
		pause();
}

/* ---- harness ---------------------------------------------------------- */

static struct {
	struct ev_loop	*loop;
	struct gnss	*g;
	struct gnss_opts opts;
	struct fix	 fixes[MAX_FIXES];
	int		 nfix;
	bool		 (*cond)(void);
	uint64_t	 want;
	struct ev_timer	 deadline;
	pid_t		 srv[MAX_SERVERS];
	int		 nsrv;
	int		 port;
	int		 log_fd;		/* captured stderr, unlinked */
	int		 saved_stderr;
	char		 lines[MAX_LINES][LINE_MAX_LEN];
	int		 nlines;
} h;

static void
on_fix(const struct fix *f, void *arg)
{
	(void)arg;
	if (h.nfix < MAX_FIXES)
		h.fixes[h.nfix++] = *f;
}

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
	bool ok;

	h.want = want;
	if (cond())
		return true;
	h.cond = cond;
	ev_timer_set(h.loop, &h.deadline, timeout_ms);
	(void)ev_run(h.loop);
	ev_timer_stop(h.loop, &h.deadline);
	h.cond = NULL;
	ok = cond();
	return ok;
}

static struct gnss_status
status(void)
{
	struct gnss_status st;

	gnss_get_status(h.g, &st);
	return st;
}

static bool
cond_fixes(void)
{
	return (uint64_t)h.nfix >= h.want;
}

static bool
cond_rejected(void)
{
	return status().rejected >= h.want;
}

static bool
cond_progress(void)
{
	return status().progress >= h.want;
}

static bool
cond_state(void)
{
	return status().state == (enum gnss_state)h.want;
}

static int
listen_on(int port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
	    "bind: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	h.port = ntohs(sin.sin_port);
	return fd;
}

/* A port nothing listens on (bound once to get it, then released). */
static int
free_port(void)
{
	int fd = listen_on(0);

	(void)close(fd);
	return h.port;
}

static void
srv_start_on(int port, const struct srv_step *steps, size_t n)
{
	int lfd = listen_on(port);
	pid_t parent = getpid();

	cr_assert_eq(listen(lfd, 8), 0);
	cr_assert_lt(h.nsrv, MAX_SERVERS);
	h.srv[h.nsrv] = fork();
	cr_assert_geq(h.srv[h.nsrv], 0);
	if (h.srv[h.nsrv] == 0)
		srv_child(lfd, steps, n, parent);
	h.nsrv++;
	(void)close(lfd);
}

#define srv_start(steps)	srv_start_on(0, (steps), \
				    sizeof(steps) / sizeof((steps)[0]))

static void
srv_stop(void)
{
	while (h.nsrv > 0) {
		h.nsrv--;
		(void)kill(h.srv[h.nsrv], SIGKILL);
		(void)waitpid(h.srv[h.nsrv], NULL, 0);
	}
}

/* Starts the adapter on h.port with small test timings. */
static void
gnss_start(double max_hdop, uint32_t stale_ms)
{
	h.opts.host = "127.0.0.1";
	h.opts.port = h.port;
	h.opts.max_hdop = max_hdop;
	h.opts.reconnect_min_ms = 50;
	h.opts.reconnect_max_ms = 200;
	h.opts.stale_ms = stale_ms;
	h.g = gnss_new(h.loop, &h.opts, on_fix, NULL);
	cr_assert_not_null(h.g);
}

static void
setup(void)
{
	char path[] = "/tmp/test_gnss.XXXXXX";

	memset(&h, 0, sizeof(h));
	h.saved_stderr = -1;
	/* capture the log to count the state-change lines; unlinked at
	 * once, so a test killed by its timeout leaves nothing behind */
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
}

static void
teardown(void)
{
	gnss_free(h.g);
	h.g = NULL;
	srv_stop();
	ev_free(h.loop);
	h.loop = NULL;
	fflush(stderr);
	if (h.saved_stderr >= 0) {
		(void)dup2(h.saved_stderr, STDERR_FILENO);
		(void)close(h.saved_stderr);
	}
	(void)close(h.log_fd);
}

/* Occurrences of needle in the captured log. */
static int
log_count(const char *needle)
{
	static char buf[1 << 16];
	ssize_t n;
	const char *p;
	int count = 0;

	fflush(stderr);
	if ((n = pread(h.log_fd, buf, sizeof(buf) - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		count++;
	return count;
}

/* ---- gpsd 3.22-shaped lines ------------------------------------------ */

static const char *
line_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *
line_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	cr_assert_lt(h.nlines, MAX_LINES);
	s = h.lines[h.nlines++];
	va_start(ap, fmt);
	(void)vsnprintf(s, LINE_MAX_LEN, fmt, ap);
	va_end(ap);
	return s;
}

static void
iso_time(char *buf, size_t len, int64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

/*
 * A TPV as gpsd 3.22 writes it; t_ms 0, NaN lat or NaN speed/track leave
 * those members out, like gpsd does for unknown values.
 */
static const char *
tpv(int mode, int64_t t_ms, double lat, double lon, double speed,
    double track)
{
	char tbuf[96] = "", ts[40], pos[160] = "", alt[96] = "";
	char trk[48] = "", spd[32] = "";

	if (t_ms != 0) {
		iso_time(ts, sizeof(ts), t_ms);
		snprintf(tbuf, sizeof(tbuf), ",\"time\":\"%s\",\"ept\":0.005",
		    ts);
	}
	if (isfinite(lat))
		snprintf(pos, sizeof(pos), ",\"lat\":%.9f", lat);
	if (isfinite(lon))
		snprintf(pos + strlen(pos), sizeof(pos) - strlen(pos),
		    ",\"lon\":%.9f", lon);
	if (mode == 3)
		snprintf(alt, sizeof(alt), ",\"altHAE\":512.3000,"
		    "\"altMSL\":505.1000,\"alt\":505.1000,\"epv\":19.350");
	if (isfinite(track))
		snprintf(trk, sizeof(trk), ",\"track\":%.4f", track);
	if (isfinite(speed))
		snprintf(spd, sizeof(spd), ",\"speed\":%.3f", speed);
	return line_printf("{\"class\":\"TPV\",\"device\":\"" DEVICE_PATH
	    "\",\"mode\":%d%s%s%s,\"magvar\":-2.1%s%s,\"eph\":14.860}\n",
	    mode, tbuf, pos, alt, trk, spd);
}

static const char *
good_tpv(int64_t t_ms)
{
	return tpv(3, t_ms, 30.5723, 104.0665, 8.871, 271.5);
}

struct tsat {
	int	prn, gnssid, svid;
	bool	used;
};

static const char *
sky(double hdop, const struct tsat *sats, size_t n)
{
	char body[LINE_MAX_LEN - 256], dop[128] = "";
	size_t i, len = 0;
	int used = 0;

	body[0] = '\0';
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "%s{\"PRN\":%d,\"el\":42.0,\"az\":130.0,\"ss\":45.0,"
		    "\"used\":%s,\"gnssid\":%d,\"svid\":%d}", i ? "," : "",
		    sats[i].prn, sats[i].used ? "true" : "false",
		    sats[i].gnssid, sats[i].svid);
		used += sats[i].used;
	}
	if (isfinite(hdop))
		snprintf(dop, sizeof(dop), ",\"xdop\":0.92,\"ydop\":1.62,"
		    "\"vdop\":4.90,\"tdop\":2.08,\"hdop\":%.2f,\"gdop\":3.94,"
		    "\"pdop\":5.10", hdop);
	return line_printf("{\"class\":\"SKY\",\"device\":\"" DEVICE_PATH
	    "\"%s,\"nSat\":%zu,\"uSat\":%d,\"satellites\":[%s]}\n", dop, n,
	    used, body);
}

TestSuite(gnss, .init = setup, .fini = teardown, .timeout = 20);

/* ---- tests ------------------------------------------------------------ */

Test(gnss, tpvs_of_one_epoch_merge_into_one_fix, .timeout = 20)
{
	/* beidou-bd: first TPV with a gpsd-computed speed, then $GNRMC's */
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(tpv(3, T0_MS + 799, 30.5723, 104.0665, 33.429, NAN)),
		SEND(tpv(3, T0_MS + 799, 30.5723, 104.0665, 0.134, 4.94)),
		SEND(tpv(3, T0_MS + 1799, 30.5724, 104.0666, 8.871, NAN)),
		SEND(tpv(3, T0_MS + 1799, 30.5724, 104.0666, 0.165, 4.94)),
		WAIT_EOF(),
	};
	struct gnss_status st;

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 2, WAIT_MS));
	/* one more settle period: no third fix may appear */
	(void)wait_for(cond_fixes, 3, 600);
	cr_assert_eq(h.nfix, 2);
	cr_assert_eq(h.fixes[0].t_utc_ms, T0_MS + 799);
	cr_assert_float_eq(h.fixes[0].speed_mps, 0.134, 1e-9,
	    "the later TPV's speed wins");
	cr_assert_float_eq(h.fixes[0].heading_deg, 4.94, 1e-9);
	cr_assert_eq(h.fixes[0].mode, 3);
	cr_assert_float_eq(h.fixes[0].lat_deg, 30.5723, 1e-9);
	cr_assert_float_eq(h.fixes[0].lon_deg, 104.0665, 1e-9);
	cr_assert_float_eq(h.fixes[0].alt_m, 505.1, 1e-9, "altMSL");
	cr_assert_float_eq(h.fixes[0].eph_m, 14.86, 1e-9);
	cr_assert(isnan(h.fixes[0].hdop), "no SKY: hdop unknown");
	cr_assert_eq(h.fixes[0].sats_used, -1);
	cr_assert_eq(h.fixes[1].t_utc_ms, T0_MS + 1799);
	cr_assert_float_eq(h.fixes[1].speed_mps, 0.165, 1e-9);
	st = status();
	cr_assert_eq(st.fixes, 2);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(st.state, GNSS_FIX3D);
	cr_assert_eq(st.last_fix_utc_ms, T0_MS + 1799);
	cr_assert_eq(log_count("connected"), 1);
	cr_assert_eq(log_count("fix acquired (3D)"), 1);
}

Test(gnss, mode_1_is_no_fix, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(tpv(1, T0_MS, 30.5723, 104.0665, 0.0, NAN)),
		SEND(good_tpv(T0_MS + 1000)),
		PAUSE(400),
		/* the fix is lost: mode 1 at 1 Hz (paced at 2 Hz here) */
		SEND(tpv(1, T0_MS + 2000, NAN, NAN, NAN, NAN)),
		PAUSE(500),
		SEND(tpv(1, T0_MS + 3000, NAN, NAN, NAN, NAN)),
		PAUSE(500),
		SEND(tpv(1, T0_MS + 4000, NAN, NAN, NAN, NAN)),
		PAUSE(500),
		SEND(tpv(1, T0_MS + 5000, NAN, NAN, NAN, NAN)),
		PAUSE(500),
		SEND(tpv(1, T0_MS + 6000, NAN, NAN, NAN, NAN)),
		PAUSE(500),
		SEND(tpv(1, T0_MS + 7000, NAN, NAN, NAN, NAN)),
		PAUSE(500),
		SEND(tpv(1, T0_MS + 8000, NAN, NAN, NAN, NAN)),
		PAUSE(500),
		SEND(tpv(1, T0_MS + 9000, NAN, NAN, NAN, NAN)),
		WAIT_EOF(),
	};
	struct gnss_status st;

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(h.fixes[0].t_utc_ms, T0_MS + 1000);
	st = status();
	cr_assert_eq(st.rejected, 1, "the mode 1 epoch is rejected");
	cr_assert_eq(st.state, GNSS_FIX3D);
	cr_assert(wait_for(cond_rejected, 2, WAIT_MS));
	cr_assert_eq(status().state, GNSS_FIX3D,
	    "one bad epoch does not drop the fix");
	cr_assert(wait_for(cond_state, GNSS_NOFIX, WAIT_MS),
	    "3 s of rejected epochs is no fix");
	st = status();
	cr_assert_geq(st.rejected, 4);
	cr_assert_eq(st.fixes, 1);
	cr_assert_eq(h.nfix, 1);
	cr_assert_eq(log_count(": no fix"), 2,
	    "no fix logged at start and after the fix was lost");
}

Test(gnss, mode_3_without_time_is_rejected, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(tpv(3, 0, 31.24795, 121.587438, NAN, NAN)),
		SEND(good_tpv(T0_MS)),
		WAIT_EOF(),
	};

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(h.nfix, 1);
	cr_assert_eq(h.fixes[0].t_utc_ms, T0_MS);
	cr_assert_eq(status().rejected, 1);
	cr_assert_eq(log_count("rejected: no time"), 1);
}

Test(gnss, missing_latitude_is_rejected, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(tpv(3, T0_MS, NAN, 104.0665, 1.0, NAN)),
		SEND(good_tpv(T0_MS + 1000)),
		WAIT_EOF(),
	};

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(h.nfix, 1);
	cr_assert_eq(h.fixes[0].t_utc_ms, T0_MS + 1000);
	cr_assert_eq(status().rejected, 1);
	cr_assert_eq(log_count("rejected: no position"), 1);
}

Test(gnss, hdop_from_sky_gates_fixes, .timeout = 20)
{
	static const struct tsat sats[] = {
		{ 25, 0, 25, true }, { 32, 0, 32, true }, { 402, 3, 2, true },
	};
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(sky(7.5, sats, 3)),
		SEND(good_tpv(T0_MS)),
		PAUSE(500),		/* settle: T0 judged with hdop 7.5 */
		SEND(sky(1.2, sats, 3)),
		SEND(good_tpv(T0_MS + 1000)),
		WAIT_EOF(),
	};

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(h.nfix, 1);
	cr_assert_eq(h.fixes[0].t_utc_ms, T0_MS + 1000);
	cr_assert_float_eq(h.fixes[0].hdop, 1.2, 1e-9);
	cr_assert_eq(status().rejected, 1, "hdop 7.5 > 5.0");
	cr_assert_eq(log_count("rejected: hdop too high"), 1);
}

Test(gnss, sky_counts_per_constellation, .timeout = 20)
{
	static const struct tsat sats[] = {
		{ 25, 0, 25, true }, { 32, 0, 32, true }, { 9, 0, 9, false },
		{ 402, 3, 2, true }, { 403, 3, 3, true }, { 404, 3, 4, true },
		{ 401, 3, 1, false }, { 441, 3, 41, false },
		{ 65, 6, 1, true }, { 72, 6, 8, false },
		{ 301, 2, 1, false },
		{ 133, 1, 133, false },		/* SBAS: totals only */
	};
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(sky(1.3, sats, sizeof(sats) / sizeof(sats[0]))),
		SEND(good_tpv(T0_MS)),
		WAIT_EOF(),
	};
	struct gnss_status st;
	const struct fix *f;

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	f = &h.fixes[0];
	cr_assert_eq(f->sats_visible, 12);
	cr_assert_eq(f->sats_used, 6);
	cr_assert_eq(f->sys[GNSS_SYS_GPS].visible, 3);
	cr_assert_eq(f->sys[GNSS_SYS_GPS].used, 2);
	cr_assert_eq(f->sys[GNSS_SYS_BEIDOU].visible, 5);
	cr_assert_eq(f->sys[GNSS_SYS_BEIDOU].used, 3);
	cr_assert_eq(f->sys[GNSS_SYS_GLONASS].visible, 2);
	cr_assert_eq(f->sys[GNSS_SYS_GLONASS].used, 1);
	cr_assert_eq(f->sys[GNSS_SYS_GALILEO].visible, 1);
	cr_assert_eq(f->sys[GNSS_SYS_GALILEO].used, 0);
	cr_assert_float_eq(f->hdop, 1.3, 1e-9);
	st = status();
	cr_assert_eq(st.sats_used, 6);
	cr_assert_eq(st.sats_visible, 12);
	cr_assert_eq(st.sys[GNSS_SYS_BEIDOU].used, 3);
}

Test(gnss, line_split_across_writes, .timeout = 20)
{
	static char first[LINE_MAX_LEN];
	const char *whole = good_tpv(T0_MS);
	size_t half = strlen(whole) / 2;
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(first),
		PAUSE(500),
		SEND(whole + half),
		WAIT_EOF(),
	};
	uint64_t it0, progress0;

	memcpy(first, whole, half);
	first[half] = '\0';
	srv_start(steps);
	gnss_start(5.0, 5000);
	/* handshake done: VERSION, DEVICES, WATCH */
	cr_assert(wait_for(cond_progress, 4, WAIT_MS));
	progress0 = status().progress;
	it0 = ev_iterations(h.loop);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(h.fixes[0].t_utc_ms, T0_MS);
	cr_assert_float_eq(h.fixes[0].speed_mps, 8.871, 1e-9);
	/* a spin on the buffered half line would turn the loop thousands
	 * of times in the 500 ms pause; a poll() wait turns it a few */
	cr_assert_lt(ev_iterations(h.loop) - it0, 100,
	    "loop turned %llu times",
	    (unsigned long long)(ev_iterations(h.loop) - it0));
	cr_assert_eq(status().progress, progress0 + 1);
}

Test(gnss, drains_every_buffered_line, .timeout = 20)
{
	static char burst[MAX_LINES * 300];
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(burst),
		WAIT_EOF(),
	};
	int i;

	/* one write, many lines: libgps keeps what one recv() got */
	burst[0] = '\0';
	for (i = 0; i < 20; i++)
		strcat(burst, good_tpv(T0_MS + i * 1000));
	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 20, WAIT_MS), "got %d fixes", h.nfix);
	for (i = 0; i < 20; i++)
		cr_assert_eq(h.fixes[i].t_utc_ms, T0_MS + i * 1000);
	/* 1 s of GNSS time per epoch in no monotonic time is no step */
	cr_assert_eq(status().time_steps, 0);
}

Test(gnss, long_bursts_are_drained_in_bounded_steps, .timeout = 20)
{
	static char burst[16 * 1024];
	static const char dop_only[] =
	    "{\"class\":\"SKY\",\"device\":\"" DEVICE_PATH "\","
	    "\"hdop\":1.10}\n";
	const struct srv_step steps[] = {
		ACCEPT(),
		PAUSE(200),
		SEND(burst),
		WAIT_EOF(),
	};
	int i, n = 280;

	/*
	 * More lines than one drain takes (256), in one write that fits
	 * libgps's buffer: after the first drain the rest, the TPV last,
	 * sits inside libgps with nothing left for poll() to see.
	 */
	burst[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(burst, dop_only);
	strcat(burst, good_tpv(T0_MS));
	cr_assert_lt(strlen(burst), 20480);
	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(status().progress, (uint64_t)(1 + 3 + n + 1));
	cr_assert_float_eq(h.fixes[0].hdop, 1.1, 1e-9);
}

Test(gnss, server_close_reconnects_and_fixes_continue, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(good_tpv(T0_MS)),
		PAUSE(400),
		CLOSE(),
		ACCEPT(),
		SEND(good_tpv(T0_MS + 5000)),
		WAIT_EOF(),
	};
	struct gnss_status st;

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 2, WAIT_MS));
	cr_assert_eq(h.fixes[1].t_utc_ms, T0_MS + 5000);
	st = status();
	cr_assert_eq(st.reconnects, 1);
	cr_assert_eq(st.fixes, 2);
	cr_assert_eq(st.time_steps, 0, "continuity is reset on reconnect");
	cr_assert_eq(log_count("connection lost (closed by gpsd), "
	    "reconnecting"), 1);
	cr_assert_eq(log_count("connected after 1 attempt"), 1);
	cr_assert_eq(log_count("cannot connect"), 0);
	cr_assert_eq(log_count("no position reports"), 0);
}

Test(gnss, absent_gpsd_counts_progress_then_connects, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(good_tpv(T0_MS)),
		WAIT_EOF(),
	};
	struct gnss_status st;
	int port;

	port = free_port();
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_progress, 4, WAIT_MS),
	    "connect attempts count as progress");
	st = status();
	cr_assert_eq(st.state, GNSS_DOWN);
	cr_assert_eq(st.reconnects, 0);
	cr_assert_eq(log_count("), retrying"), 1, "logged once per outage");
	srv_start_on(port, steps, sizeof(steps) / sizeof(steps[0]));
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(log_count("), retrying"), 1);
	cr_assert_eq(log_count("connected after "), 1);
	cr_assert_eq(status().state, GNSS_FIX3D);
}

Test(gnss, time_steps_are_emitted_and_counted, .timeout = 20)
{
	int64_t t1 = T0_MS, t2 = T0_MS + 1000, t3 = t2 - 3119500;
	int64_t t4 = t3 + 1185000;
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(good_tpv(t1)),
		SEND(good_tpv(t2)),
		SEND(good_tpv(t3)),	/* bt451: back about 52 min */
		SEND(good_tpv(t4)),	/* nl2008u: a 1185 s gap */
		WAIT_EOF(),
	};

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 4, WAIT_MS));
	cr_assert_eq(h.fixes[2].t_utc_ms, t3);
	cr_assert_eq(h.fixes[3].t_utc_ms, t4);
	cr_assert_eq(status().time_steps, 2);
	cr_assert_eq(status().fixes, 4);
	cr_assert_eq(log_count("gnss: time stepped back 3119.5 s"), 1);
	cr_assert_eq(log_count("gnss: time jumped forward 118"), 1);
}

Test(gnss, stale_connection_is_reopened, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT_SILENT(),	/* wedged: accepts, never writes */
		WAIT_EOF(),
		ACCEPT_SILENT(),	/* still wedged: same outage */
		WAIT_EOF(),
		ACCEPT(),		/* talks, then goes quiet */
		SEND(good_tpv(T0_MS)),
		WAIT_EOF(),
		ACCEPT(),
		SEND(good_tpv(T0_MS + 1000)),
		WAIT_EOF(),
	};
	uint64_t start;
	struct gnss_status st;

	srv_start(steps);
	start = ev_now_ms(h.loop);
	gnss_start(5.0, 300);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_geq(ev_now_ms(h.loop) - start, 600,
	    "each silent connection was given stale_ms");
	cr_assert_eq(status().reconnects, 0,
	    "a connection that never spoke is not a lost session");
	cr_assert_eq(log_count("no data for 300 ms, reconnecting"), 1,
	    "two silent connections, one outage");
	cr_assert_eq(log_count("receiving reports again"), 1);
	cr_assert(wait_for(cond_fixes, 2, WAIT_MS));
	st = status();
	cr_assert_eq(st.reconnects, 1);
	/* each silence logged once, each recovery once */
	cr_assert_eq(log_count("no data for 300 ms, reconnecting"), 2);
	cr_assert_eq(log_count("receiving reports again"), 2);
}

Test(gnss, device_deactivation_flushes_the_epoch, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(good_tpv(T0_MS)),
		SEND(device_off_line),
		SEND(device_off_line),	/* gpsfake sends it twice */
		WAIT_EOF(),
	};

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	/* well before the 3 s no-TPV watchdog would say the same */
	cr_assert(wait_for(cond_state, GNSS_NODATA, 1000));
	cr_assert_eq(log_count("device " DEVICE_PATH " deactivated"), 1);
}

Test(gnss, late_tpv_for_an_emitted_epoch_is_dropped, .timeout = 20)
{
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(tpv(3, T0_MS, 30.5723, 104.0665, 1.0, NAN)),
		PAUSE(600),		/* settle timer emits T0 */
		SEND(tpv(3, T0_MS, 30.5723, 104.0665, 2.0, NAN)),
		SEND(good_tpv(T0_MS + 1000)),
		WAIT_EOF(),
	};

	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 2, WAIT_MS));
	(void)wait_for(cond_fixes, 3, 600);
	cr_assert_eq(h.nfix, 2);
	cr_assert_eq(h.fixes[0].t_utc_ms, T0_MS);
	cr_assert_float_eq(h.fixes[0].speed_mps, 1.0, 1e-9);
	cr_assert_eq(h.fixes[1].t_utc_ms, T0_MS + 1000);
}

Test(gnss, oversized_line_reconnects, .timeout = 20)
{
	static char huge[24 * 1024];
	const struct srv_step steps[] = {
		ACCEPT(),
		SEND(huge),
		PAUSE(200),
		CLOSE(),
		ACCEPT(),
		SEND(good_tpv(T0_MS)),
		WAIT_EOF(),
	};

	/* longer than libgps's 2 x 10240-byte buffer, no newline yet */
	strcpy(huge, "{\"class\":\"SKY\",\"device\":\"" DEVICE_PATH
	    "\",\"junk\":\"");
	memset(huge + strlen(huge), 'x', sizeof(huge) - strlen(huge) - 1);
	srv_start(steps);
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	cr_assert_eq(status().reconnects, 1);
	cr_assert_eq(log_count("connection lost (line too long)"), 1);
}

Test(gnss, reconfigure_to_a_new_port_reconnects, .timeout = 20)
{
	const struct srv_step old_steps[] = {
		ACCEPT(),
		SEND(good_tpv(T0_MS)),
		WAIT_EOF(),
	};
	const struct srv_step new_steps[] = {
		ACCEPT(),
		SEND(good_tpv(T0_MS + 1000)),
		WAIT_EOF(),
	};
	int old_port;

	srv_start(old_steps);
	old_port = h.port;
	gnss_start(5.0, 5000);
	cr_assert(wait_for(cond_fixes, 1, WAIT_MS));
	srv_start(new_steps);
	cr_assert_neq(h.port, old_port);
	h.opts.port = h.port;
	gnss_reconfigure(h.g, &h.opts);
	cr_assert(wait_for(cond_fixes, 2, WAIT_MS));
	cr_assert_eq(h.fixes[1].t_utc_ms, T0_MS + 1000);
	cr_assert_eq(log_count("new gpsd address"), 1);
	cr_assert_eq(status().reconnects, 0, "a move is not a loss");
	cr_assert_eq(log_count("connection lost"), 0);
}

Test(gnss, listener_that_never_accepts_does_not_block, .timeout = 20)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	int lfd, c[4], probe, i;
	uint64_t p0;

	/*
	 * A wedged gpsd: it listens, never accepts, its queue is full, so
	 * SYNs go unanswered and a blocking connect() would hang in the SYN
	 * retries for about two minutes, taking the loop with it.
	 */
	lfd = listen_on(0);
	cr_assert_eq(listen(lfd, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)h.port);
	for (i = 0; i < 4; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(c[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	probe = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	(void)connect(probe, (struct sockaddr *)&sin, sizeof(sin));
	pfd.fd = probe;
	pfd.events = POLLOUT;
	cr_assert_eq(poll(&pfd, 1, 500), 0,
	    "the queue is not full: the test would prove nothing");
	(void)close(probe);

	gnss_start(5.0, 300);	/* stale_ms doubles as connect timeout */
	cr_assert(wait_for(cond_progress, 1, WAIT_MS));
	p0 = status().progress;
	cr_assert(wait_for(cond_progress, p0 + 2, WAIT_MS),
	    "the loop goes on: attempts time out and are retried");
	cr_assert_eq(status().state, GNSS_DOWN);
	cr_assert_eq(log_count("cannot connect (connect timed out), "
	    "retrying"), 1);
	for (i = 0; i < 4; i++)
		(void)close(c[i]);
	(void)close(lfd);
}

Test(gnss, backoff_bounds_connect_attempts, .timeout = 20)
{
	uint64_t p;

	(void)free_port();
	gnss_start(5.0, 5000);	/* retries 50 ms doubling to 200 ms */
	(void)wait_for(cond_progress, UINT64_MAX, 1500);
	p = status().progress;
	/* 0, 50, 150, 350, then every 200 ms: about 9 in 1.5 s; without
	 * backoff it would be 30 */
	cr_assert_leq(p, 14, "%llu connect attempts", (unsigned long long)p);
	cr_assert_geq(p, 3, "%llu connect attempts", (unsigned long long)p);
	cr_assert_eq(log_count("), retrying"), 1);
}

Test(gnss, state_names, .timeout = 20)
{
	cr_assert_str_eq(gnss_state_name(GNSS_DOWN), "down");
	cr_assert_str_eq(gnss_state_name(GNSS_NODATA), "nodata");
	cr_assert_str_eq(gnss_state_name(GNSS_NOFIX), "nofix");
	cr_assert_str_eq(gnss_state_name(GNSS_FIX2D), "fix2d");
	cr_assert_str_eq(gnss_state_name(GNSS_FIX3D), "fix3d");
}

/*
 * libgps's JSON reader never returns on some malformed lines (found by
 * the fuzzer: tests/fuzz/crashes/gpsd_line-*).  Such lines must be dropped
 * before gps_unpack(); a good fix after them still counts.
 */
Test(gnss, malformed_json_lines_are_dropped_not_decoded, .timeout = 20)
{
	static const char *junk[] = {
		"{A\"class\":\"TPV\"}",
		"{1\"class\":\"TPV\"",
		"{\"x\":1,A\"class\":\"SKY\"}",
		"{\"class\":\"DEVICE\",\"activated\":0",
		"[\"class\",\"TPV\"]",
		"{\"class\":7}",
		"not json at all",
	};
	struct gnss_status	st;
	char			line[256];
	size_t			i;

	h.port = 1;	/* never connected: lines are fed directly */
	gnss_start(5.0, 30000);
	for (i = 0; i < NELEM(junk); i++) {
		util_strlcpy(line, junk[i], sizeof(line));
		gnss_feed_line(h.g, line);
	}
	gnss_get_status(h.g, &st);
	cr_assert_eq(st.junk, NELEM(junk), "junk %" PRIu64, st.junk);
	cr_assert_eq(st.fixes, 0);

	/* The decoder still works for real gpsd lines afterwards. */
	util_strlcpy(line, good_tpv(INT64_C(1772432045000)), sizeof(line));
	line[strcspn(line, "\n")] = '\0';
	gnss_feed_line(h.g, line);
	util_strlcpy(line, good_tpv(INT64_C(1772432046000)), sizeof(line));
	line[strcspn(line, "\n")] = '\0';
	gnss_feed_line(h.g, line);
	cr_assert_eq(h.nfix, 1, "the first epoch is emitted when the next "
	    "one starts");
	cr_assert_eq(h.fixes[0].t_utc_ms, INT64_C(1772432045000));
}
