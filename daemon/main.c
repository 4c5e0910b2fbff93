/* SPDX-License-Identifier: MIT */
/*
 * main.c - fleetgwd: argument parsing, the init chain, event wiring,
 * reload and the shutdown chain.  The only file that knows every module.
 *
 * Init order: log, config, loop, store, control socket, gnss; READY=1;
 * finalise in reverse.  Anything that fails before READY=1 is fatal (exit
 * 1) so a technician sees the problem at once; faults at run time (gpsd
 * gone, disk full) are logged once and retried.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clocktrust.h"
#include "config.h"
#include "ctl.h"
#include "ev.h"
#include "gnss.h"
#include "log.h"
#include "notify.h"
#include "record.h"
#include "store.h"
#include "timefmt.h"
#include "util.h"

#ifndef FLEETGW_VERSION
#define FLEETGW_VERSION		"0.1.0"
#endif
#define DEFAULT_CONFIG		"/etc/fleetgw/fleetgw.conf"
#define STATUS_PERIOD_MS	2000
#define RETENTION_PERIOD_MS	(10 * 60 * 1000)
/* Slack on top of the GNSS reader's own deadlines before we call it stuck. */
#define WATCHDOG_GNSS_SLACK_MS	5000
/* Created by systemd-timesyncd while the system clock is synchronised. */
#define TIMESYNC_FLAG		"/run/systemd/timesync/synchronized"

struct daemon {
	struct config	*conf;
	struct ev_loop	*loop;
	struct store	*store;
	struct gnss	*gnss;
	struct ctl	*ctl;
	uint64_t	 start_mono_ms;
	int64_t		 last_fix_utc_ms;
	uint64_t	 last_fix_mono_ms;
	int		 retention_pending;
	struct clocktrust trust;		/* may ages be judged yet? */
	int		 clock_disagrees;	/* logged once */

	struct ev_timer	 commit_timer;
	struct ev_timer	 status_timer;
	struct ev_timer	 retention_timer;
	struct ev_timer	 watchdog_timer;
	uint64_t	 watchdog_ms;
	uint64_t	 wd_iterations;
	uint64_t	 wd_gnss_progress;
	uint64_t	 wd_gnss_moved_ms;
	char		 last_status[256];
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: fleetgwd [-c FILE] [-n] [-d] [-v] [-V] "
	    "[--help-config]\n"
	    "  -c FILE        configuration file (default %s)\n"
	    "  -n             check the configuration and exit\n"
	    "  -d             stay in the foreground, log to stderr\n"
	    "  -v             more verbose logging (debug)\n"
	    "  -V             print the version and exit\n"
	    "  --help-config  list every configuration key and exit\n",
	    DEFAULT_CONFIG);
}

static void
opts_from_config(const struct config *c, struct store_opts *so,
    struct gnss_opts *go)
{
	memset(so, 0, sizeof(*so));
	so->path = c->storage.path;
	so->max_size_mb = c->storage.max_size_mb;
	so->keep_days = c->storage.keep_days;
	so->commit_interval_ms = (uint32_t)c->storage.commit_interval_s * 1000;
	so->commit_rows = (uint32_t)c->storage.commit_rows;
	so->device_id = c->device.id;
	so->timezone = c->device.timezone;

	memset(go, 0, sizeof(*go));
	go->host = c->gnss.host;
	go->port = c->gnss.port;
	go->max_hdop = c->gnss.max_hdop;
	go->max_eph_m = c->gnss.max_eph_m;
	go->reconnect_min_ms = (uint32_t)c->gnss.retry_min_ms;
	go->reconnect_max_ms = (uint32_t)c->gnss.retry_max_ms;
	go->stale_ms = (uint32_t)c->gnss.stale_s * 1000;
}

static void
print_errors(const struct config_errors *errs, int to_log)
{
	size_t	i;

	for (i = 0; i < errs->n; i++) {
		if (to_log)
			log_warnx("config: %s", errs->lines[i]);
		else
			fprintf(stderr, "%s\n", errs->lines[i]);
	}
}

/* Arm the commit timer for the next due batch, if any. */
static void
schedule_commit(struct daemon *d)
{
	uint64_t	due;

	due = store_next_due_ms(d->store, ev_now_ms(d->loop));
	if (due == UINT64_MAX)
		ev_timer_stop(d->loop, &d->commit_timer);
	else
		ev_timer_set(d->loop, &d->commit_timer, due);
}

static void
on_commit_timer(void *arg)
{
	struct daemon	*d = arg;

	(void)store_commit_due(d->store, ev_now_ms(d->loop));
	schedule_commit(d);
}

/*
 * Is GNSS time good enough to delete rows by age?  See clocktrust.h.  The
 * system clock counts only while timesyncd says it is synchronised.
 */
static int
gnss_time_trusted(struct daemon *d)
{
	enum clocktrust_verdict	v;

	v = clocktrust_check(&d->trust, access(TIMESYNC_FLAG, F_OK) == 0 ?
	    util_real_ms() : INT64_MIN);
	if (v == CLOCKTRUST_SYSCLOCK && !d->clock_disagrees) {
		log_warnx("main: gnss time is %+.1f days off the synchronised "
		    "system clock, age-based retention paused",
		    (double)(clocktrust_last_utc_ms(&d->trust) -
		    util_real_ms()) / CLOCKTRUST_SYSCLOCK_MAX_MS);
		d->clock_disagrees = 1;
	} else if (v == CLOCKTRUST_OK && d->clock_disagrees) {
		log_info("main: gnss time agrees with the system clock again");
		d->clock_disagrees = 0;
	}
	return v == CLOCKTRUST_OK;
}

static void
run_retention(struct daemon *d)
{
	/* Size limits need no clock; ages need a trusted one. */
	(void)store_retention(d->store, gnss_time_trusted(d) ?
	    d->last_fix_utc_ms : INT64_MIN);
}

static void
on_fix(const struct fix *fx, void *arg)
{
	struct daemon	*d = arg;
	uint64_t	 now = ev_now_ms(d->loop);

	clocktrust_fix(&d->trust, fx->t_utc_ms, now);
	d->last_fix_utc_ms = fx->t_utc_ms;
	d->last_fix_mono_ms = now;
	(void)store_put_position(d->store, fx, now);
	(void)store_commit_due(d->store, now);
	schedule_commit(d);
	if (d->retention_pending && gnss_time_trusted(d)) {
		d->retention_pending = 0;
		run_retention(d);
	}
}

static void
on_retention_timer(void *arg)
{
	struct daemon	*d = arg;

	run_retention(d);
	if (!gnss_time_trusted(d))
		d->retention_pending = 1;	/* again once time is trusted */
	ev_timer_set(d->loop, &d->retention_timer, RETENTION_PERIOD_MS);
}

static void
format_status(struct daemon *d, char *buf, size_t len)
{
	struct gnss_status	gs;
	struct store_stats	ss;

	gnss_get_status(d->gnss, &gs);
	store_get_stats(d->store, &ss);
	switch (gs.state) {
	case GNSS_FIX2D:
	case GNSS_FIX3D:
		snprintf(buf, len, "fix %s, %d/%d sats (beidou %u/%u); "
		    "%" PRIu64 " records, %" PRIu64 " pending",
		    gs.state == GNSS_FIX3D ? "3D" : "2D", gs.sats_used,
		    gs.sats_visible, gs.sys[GNSS_SYS_BEIDOU].used,
		    gs.sys[GNSS_SYS_BEIDOU].visible, ss.positions, ss.pending);
		break;
	default:
		snprintf(buf, len, "%s; %" PRIu64 " records, %" PRIu64
		    " pending", gs.state == GNSS_DOWN ? "no fix (gpsd down)" :
		    gs.state == GNSS_NODATA ? "no fix (no data from gpsd)" :
		    "no fix", ss.positions, ss.pending);
		break;
	}
}

static void
on_status_timer(void *arg)
{
	struct daemon	*d = arg;
	char		 buf[sizeof(d->last_status)];

	format_status(d, buf, sizeof(buf));
	if (strcmp(buf, d->last_status) != 0) {
		notify_status("%s", buf);
		util_strlcpy(d->last_status, buf, sizeof(d->last_status));
	}
	ev_timer_set(d->loop, &d->status_timer, STATUS_PERIOD_MS);
}

/*
 * WATCHDOG=1 only while the loop turns and the GNSS reader makes progress.
 * The reader's progress counter moves on every line and every connect
 * attempt; it may legitimately stand still for at most its stale timeout
 * plus one backoff step, after which it reconnects (and so moves).
 */
static void
on_watchdog_timer(void *arg)
{
	struct daemon		*d = arg;
	struct gnss_status	 gs;
	uint64_t		 now = ev_now_ms(d->loop), allowed;
	uint64_t		 it = ev_iterations(d->loop);

	gnss_get_status(d->gnss, &gs);
	if (gs.progress != d->wd_gnss_progress) {
		d->wd_gnss_progress = gs.progress;
		d->wd_gnss_moved_ms = now;
	}
	allowed = (uint64_t)d->conf->gnss.stale_s * 1000 +
	    (uint64_t)d->conf->gnss.retry_max_ms + WATCHDOG_GNSS_SLACK_MS;
	if (it != d->wd_iterations && now - d->wd_gnss_moved_ms <= allowed)
		notify_watchdog();
	else
		log_debug("main: watchdog withheld (loop %s, gnss idle %" PRIu64
		    " ms)", it != d->wd_iterations ? "ok" : "stuck",
		    now - d->wd_gnss_moved_ms);
	d->wd_iterations = it;
	ev_timer_set(d->loop, &d->watchdog_timer, d->watchdog_ms / 2);
}

static json_t *
status_json(struct daemon *d)
{
	struct gnss_status	 gs;
	struct store_stats	 ss;
	json_t			*root, *g, *cons, *s;
	char			 tbuf[64];
	enum gnss_sys		 i;

	gnss_get_status(d->gnss, &gs);
	store_get_stats(d->store, &ss);
	cons = json_object();
	for (i = 0; i < GNSS_SYS_COUNT; i++)
		json_object_set_new(cons, record_sys_name(i),
		    json_pack("{s:i, s:i}", "visible", (int)gs.sys[i].visible,
		    "used", (int)gs.sys[i].used));
	g = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:I, s:I, s:I, s:I}",
	    "state", gnss_state_name(gs.state),
	    "host", d->conf->gnss.host, "port", d->conf->gnss.port,
	    "sats_used", gs.sats_used, "sats_visible", gs.sats_visible,
	    "constellations", cons,
	    "fixes", (json_int_t)gs.fixes, "rejected", (json_int_t)gs.rejected,
	    "reconnects", (json_int_t)gs.reconnects,
	    "time_steps", (json_int_t)gs.time_steps);
	if (gs.last_fix_utc_ms != 0 &&
	    timefmt_format(gs.last_fix_utc_ms, d->conf->device.timezone,
	    tbuf, sizeof(tbuf)) == 0)
		json_object_set_new(g, "last_fix", json_string(tbuf));
	if (d->last_fix_mono_ms != 0)
		json_object_set_new(g, "last_fix_age_s", json_integer(
		    (json_int_t)((ev_now_ms(d->loop) - d->last_fix_mono_ms) /
		    1000)));
	s = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
	    "path", d->conf->storage.path,
	    "positions", (json_int_t)ss.positions,
	    "pending", (json_int_t)ss.pending,
	    "next_seq", (json_int_t)ss.next_seq,
	    "commits", (json_int_t)ss.commits,
	    "dropped", (json_int_t)ss.dropped);
	root = json_pack("{s:b, s:s, s:{s:s, s:s, s:s}, s:I, s:o, s:o}",
	    "ok", 1, "version", FLEETGW_VERSION,
	    "device", "id", d->conf->device.id, "plate", d->conf->device.plate,
	    "timezone", d->conf->device.timezone,
	    "uptime_s", (json_int_t)((ev_now_ms(d->loop) -
	    d->start_mono_ms) / 1000),
	    "gnss", g, "store", s);
	return root;
}

static json_t *
on_ctl_request(const json_t *req, void *arg)
{
	struct daemon	*d = arg;
	const char	*cmd;

	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "request has no \"cmd\" string");
	if (strcmp(cmd, "status") == 0)
		return status_json(d);
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
	    "unknown command", "cmd", cmd);
}

static void
reload(struct daemon *d)
{
	struct config_errors	 errs = { 0, NULL };
	struct config		*nc;
	struct store_opts	 so;
	struct gnss_opts	 go;
	struct ctl		*nctl;

	notify_reloading();
	log_info("main: reloading %s", d->conf->file);
	if ((nc = config_load(d->conf->file, &errs)) == NULL) {
		print_errors(&errs, 1);
		config_errors_free(&errs);
		log_warnx("main: reload failed, keeping the running "
		    "configuration");
		notify_ready();
		return;
	}
	if (strcmp(nc->storage.path, d->conf->storage.path) != 0) {
		log_warnx("main: storage.path changed to %s; takes effect at "
		    "the next restart, still using %s", nc->storage.path,
		    d->conf->storage.path);
		free(nc->storage.path);
		nc->storage.path = xstrdup(d->conf->storage.path);
	}
	if (strcmp(nc->ctl.socket, d->conf->ctl.socket) != 0) {
		nctl = ctl_new(d->loop, nc->ctl.socket, on_ctl_request, d);
		if (nctl == NULL) {
			log_warnx("main: keeping control socket %s",
			    d->conf->ctl.socket);
			free(nc->ctl.socket);
			nc->ctl.socket = xstrdup(d->conf->ctl.socket);
		} else {
			ctl_free(d->ctl);
			d->ctl = nctl;
		}
	}
	opts_from_config(nc, &so, &go);
	store_set_limits(d->store, &so);
	gnss_reconfigure(d->gnss, &go);
	config_free(d->conf);
	d->conf = nc;
	log_info("main: configuration reloaded");
	schedule_commit(d);
	notify_ready();
}

static void
on_signal(int signo, void *arg)
{
	struct daemon	*d = arg;

	switch (signo) {
	case SIGHUP:
		reload(d);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("main: %s received, shutting down",
		    signo == SIGTERM ? "SIGTERM" : "SIGINT");
		ev_break(d->loop);
		break;
	default:
		break;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "help-config", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct daemon		 d;
	struct config_errors	 errs = { 0, NULL };
	struct store_opts	 so;
	struct gnss_opts	 go;
	const char		*conffile = DEFAULT_CONFIG;
	int			 ch, check = 0, foreground = 0, verbose = 0;
	int			 rc = 0;

	while ((ch = getopt_long(argc, argv, "c:ndvVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("fleetgwd %s\n", FLEETGW_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'H':
			config_print_table(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	log_init("fleetgwd", check ? LOG_TARGET_QUIET :
	    foreground ? LOG_TARGET_STDERR : LOG_TARGET_AUTO);
	log_setverbose(verbose);

	memset(&d, 0, sizeof(d));
	if ((d.conf = config_load(conffile, &errs)) == NULL) {
		print_errors(&errs, !check && !foreground);
		if (!check && !foreground)
			log_warnx("main: %s: invalid configuration", conffile);
		else if (!check)
			fprintf(stderr, "fleetgwd: %s: invalid configuration\n",
			    conffile);
		config_errors_free(&errs);
		return 1;
	}
	if (check) {
		if (verbose)
			config_dump(d.conf, stdout);
		printf("configuration OK\n");
		config_free(d.conf);
		return 0;
	}

	d.loop = ev_new();
	d.start_mono_ms = ev_now_ms(d.loop);
	ev_signal_set(d.loop, on_signal, &d);
	log_info("main: fleetgwd %s starting, device %s", FLEETGW_VERSION,
	    d.conf->device.id);

	opts_from_config(d.conf, &so, &go);
	if ((d.store = store_open(&so)) == NULL) {
		log_warnx("main: cannot open the store, exiting");
		rc = 1;
		goto out;
	}
	if ((d.ctl = ctl_new(d.loop, d.conf->ctl.socket, on_ctl_request,
	    &d)) == NULL) {
		log_warnx("main: cannot open the control socket, exiting");
		rc = 1;
		goto out;
	}
	d.gnss = gnss_new(d.loop, &go, on_fix, &d);

	ev_timer_init(&d.commit_timer, on_commit_timer, &d);
	ev_timer_init(&d.status_timer, on_status_timer, &d);
	ev_timer_init(&d.retention_timer, on_retention_timer, &d);
	ev_timer_init(&d.watchdog_timer, on_watchdog_timer, &d);
	d.retention_pending = 1;
	run_retention(&d);	/* the size cap now, ages once time is trusted */
	ev_timer_set(d.loop, &d.retention_timer, RETENTION_PERIOD_MS);
	on_status_timer(&d);
	if ((d.watchdog_ms = notify_watchdog_ms()) != 0) {
		d.wd_gnss_moved_ms = ev_now_ms(d.loop);
		ev_timer_set(d.loop, &d.watchdog_timer, d.watchdog_ms / 2);
		log_info("main: watchdog every %" PRIu64 " ms",
		    d.watchdog_ms / 2);
	}

	notify_ready();
	log_info("main: ready");
	if (ev_run(d.loop) == -1)
		rc = 1;
	notify_stopping();

out:
	gnss_free(d.gnss);
	ctl_free(d.ctl);
	if (d.store != NULL) {
		if (store_commit(d.store) == -1)
			rc = 1;
		store_close(d.store);
	}
	log_info("main: stopped");
	config_free(d.conf);
	ev_free(d.loop);
	return rc;
}
