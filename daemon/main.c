/* SPDX-License-Identifier: MIT */
/*
 * main.c - fleetgwd: argument parsing, the init chain, event wiring,
 * reload and the shutdown chain.  The only file that knows every module.
 *
 * Init order: log, config, loop, store (and recovery of a trip left open
 * by a crash), control socket, gnss, obd; READY=1; finalise in reverse.  Anything that fails before READY=1 is fatal (exit
 * 1) so a technician sees the problem at once; faults at run time (gpsd
 * gone, disk full) are logged once and retried.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bundle.h"
#include "calendar.h"
#include "checkpoint.h"
#include "clocktrust.h"
#include "config.h"
#include "ctl.h"
#include "ctlauth.h"
#include "dispatch.h"
#include "ev.h"
#include "fence.h"
#include "fencejson.h"
#include "fenceload.h"
#include "gnss.h"
#include "log.h"
#include "notify.h"
#include "obd.h"
#include "platformset.h"
#include "record.h"
#include "rules.h"
#include "sign.h"
#include "store.h"
#include "sync.h"
#include "timefmt.h"
#include "trip.h"
#include "util.h"
#include "vcheck.h"

#ifndef FLEETGW_VERSION
#define FLEETGW_VERSION		"0.1.0"
#endif
#define DEFAULT_CONFIG		"/etc/fleetgw/fleetgw.conf"
#define STATUS_PERIOD_MS	2000
#define RETENTION_PERIOD_MS	(10 * 60 * 1000)
#define RULES_TICK_MS		1000
#define ORDERS_MAX		4096
/* Slack on top of the GNSS reader's own deadlines before we call it stuck. */
#define WATCHDOG_GNSS_SLACK_MS	5000
/* OBD values older than this many fast poll periods (plus one command
 * timeout) are not attached to a position or fed to trip detection. */
#define OBD_FRESH_PERIODS	3
/* Created by systemd-timesyncd while the system clock is synchronised. */
#define TIMESYNC_FLAG		"/run/systemd/timesync/synchronized"

/* Fences per "fences" reply: 2000 of them are about 600 KB of JSON,
 * inside the client's 1 MiB cap. */
#define CTL_FENCES_PAGE		2000
#define CTL_FENCES_PAGE_STR	"2000"

struct daemon {
	struct config	*conf;
	struct ev_loop	*loop;
	struct store	*store;
	struct gnss	*gnss;
	struct obd	*obd;
	struct ctl	*ctl;
	struct sign_key	*key;			/* signing.key_file, or NULL */
	struct sync	*sync;			/* NULL without a platform */
	struct fix	 last_fix;		/* valid when last_fix_mono_ms */
	struct fence_set *fences;		/* never NULL once started */
	struct calendar	*cal;			/* never NULL once started */
	struct rules	*rules;
	int		 rules_urgent;		/* violation/critical queued */
	int		 rules_dirty;		/* events since the last save */
	int		 power_loss;		/* previous run crashed */
	int64_t		 power_loss_last_ms;	/* its last record */
	int		 power_loss_in_trip;
	struct ev_timer	 rules_timer;
	struct trip_tracker trip;
	uint64_t	 trip_id;		/* of the open trip, 0 none */
	int64_t		 obd_utc_ms;		/* last OBD sample time */
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
	struct ev_timer	 checkpoint_timer;
	struct chain	 cp_last[STORE_STREAMS]; /* heads last signed */
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

static enum obd_pid_fuel
obd_fuel(enum config_fuel f)
{
	switch (f) {
	case CONFIG_FUEL_DIESEL:
		return OBD_PID_FUEL_DIESEL;
	case CONFIG_FUEL_LPG:
		return OBD_PID_FUEL_LPG;
	case CONFIG_FUEL_CNG:
		return OBD_PID_FUEL_CNG;
	case CONFIG_FUEL_ELECTRIC:
		return OBD_PID_FUEL_ELECTRIC;
	case CONFIG_FUEL_GASOLINE:
	case CONFIG_FUEL_HYBRID:
		break;
	}
	return OBD_PID_FUEL_GASOLINE;
}

static void
obd_opts_from_config(const struct config *c, struct obd_opts *oo)
{
	memset(oo, 0, sizeof(*oo));
	switch (c->obd.driver) {
	case CONFIG_OBD_ELM327:
		oo->driver = OBD_DRIVER_ELM327;
		break;
	case CONFIG_OBD_SOCKETCAN:
		oo->driver = OBD_DRIVER_SOCKETCAN;
		break;
	case CONFIG_OBD_NONE:
		oo->driver = OBD_DRIVER_NONE;
		break;
	}
	oo->device = c->obd.device;
	oo->baud = c->obd.baud;
	oo->interface = c->obd.interface;
	oo->timeout_ms = (uint32_t)c->obd.timeout_ms;
	oo->poll_fast_ms = (uint32_t)c->obd.poll_fast_ms;
	oo->poll_slow_ms = (uint32_t)c->obd.poll_slow_ms;
	oo->dtc_interval_ms = (uint32_t)c->obd.dtc_interval_s * 1000;
	oo->retry_min_ms = (uint32_t)c->obd.retry_min_ms;
	oo->retry_max_ms = (uint32_t)c->obd.retry_max_ms;
	oo->fuel = obd_fuel(c->device.fuel);
}

static void
trip_config_from_config(const struct config *c, struct trip_config *tc)
{
	trip_config_default(tc);
	tc->ign_off_end_ms = (int64_t)c->trips.ign_off_end_s * 1000;
	tc->stationary_end_ms = (int64_t)c->trips.stationary_end_s * 1000;
	tc->hdop_max = c->gnss.max_hdop;
	tc->tank_l = c->device.tank_l > 0 ? c->device.tank_l : NAN;
	tc->obd_stale_ms = (int64_t)c->obd.poll_fast_ms * OBD_FRESH_PERIODS +
	    c->obd.timeout_ms;
	if (tc->obd_stale_ms < 5000)
		tc->obd_stale_ms = 5000;
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
	so->acks = c->platform.enabled;

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

/*
 * The fence set of c: NULL when it is invalid, after printing why (to the
 * log or stderr).  Warnings are printed either way.
 */
static struct fence_set *
load_fences(const struct config *c, int to_log)
{
	struct config_errors	 errs, warns;
	struct fence_set	*set;
	size_t			 i;

	set = platformset_fences(c, NULL, &errs, &warns);
	for (i = 0; i < warns.n; i++) {
		if (to_log)
			log_warnx("fences: %s", warns.lines[i]);
		else
			fprintf(stderr, "warning: %s\n", warns.lines[i]);
	}
	print_errors(&errs, to_log);
	config_errors_free(&errs);
	config_errors_free(&warns);
	return set;
}

static void
log_fences(const struct fence_set *set)
{
	size_t	i, large = 0, index, total;

	for (i = 0; i < fence_set_count(set); i++)
		if (fence_set_info(set, i)->large)
			large++;
	total = fence_set_memory(set, &index);
	log_info("main: %zu fences loaded (%zu checked on their own), index "
	    "%zu KiB, %zu KiB in all", fence_set_count(set), large,
	    (index + 1023) / 1024, (total + 1023) / 1024);
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
 * The file whose presence says the system clock is synchronised:
 * timesyncd's, or FLEETGW_TIMESYNC_FLAG (tests).
 */
static const char *
timesync_flag(void)
{
	const char	*p = getenv("FLEETGW_TIMESYNC_FLAG");

	return p != NULL && p[0] != '\0' ? p : TIMESYNC_FLAG;
}

/*
 * Is GNSS time good enough to delete rows by age?  See clocktrust.h.  The
 * system clock counts only while timesyncd says it is synchronised.
 */

static int
gnss_time_trusted(struct daemon *d)
{
	enum clocktrust_verdict	v;

	v = clocktrust_check(&d->trust, access(timesync_flag(), F_OK) == 0 ?
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

static int64_t	gnss_now_ms(const struct daemon *);
static void	rules_sync(struct daemon *);

static void
run_retention(struct daemon *d)
{
	struct store_pressure	 p;
	json_t			*details, *streams;
	int64_t			 now;
	int			 i;

	/* Size limits need no clock; ages need a trusted one. */
	(void)store_retention(d->store, gnss_time_trusted(d) ?
	    d->last_fix_utc_ms : INT64_MIN);
	if (store_take_pressure(d->store, &p) != 1)
		return;
	/*
	 * Unacknowledged records had to go: say which, as an event that
	 * the platform receives (it explains the gap, docs/platform-api.md).
	 */
	streams = json_object();
	for (i = 0; i < STORE_STREAMS; i++) {
		if (p.count[i] == 0)
			continue;
		json_object_set_new(streams, store_stream_name(
		    (enum store_stream)i), json_pack("{s:I, s:I, s:I}",
		    "records", (json_int_t)p.count[i],
		    "from_seq", (json_int_t)p.from_seq[i],
		    "to_seq", (json_int_t)p.to_seq[i]));
	}
	details = json_pack("{s:o, s:i}", "unsent_deleted", streams,
	    "max_size_mb", d->conf->storage.max_size_mb);
	now = gnss_now_ms(d);
	rules_raise(d->rules, RULES_STORAGE_PRESSURE, now != INT64_MIN ? now :
	    util_real_ms(), details);
	rules_sync(d);
}

/*
 * GNSS time now: the last fix plus the monotonic time since it arrived
 * (trips and OBD samples run on GNSS time, DESIGN.md §2), or INT64_MIN
 * before the first fix.
 */
static int64_t
gnss_now_ms(const struct daemon *d)
{
	if (d->last_fix_mono_ms == 0)
		return INT64_MIN;
	return d->last_fix_utc_ms +
	    (int64_t)(ev_now_ms(d->loop) - d->last_fix_mono_ms);
}

/* OBD values fresh enough to belong to a fix taken now. */
static void
obd_sample_now(const struct daemon *d, struct obd_sample *os)
{
	uint64_t	max_age;

	max_age = (uint64_t)d->conf->obd.poll_fast_ms * OBD_FRESH_PERIODS +
	    (uint64_t)d->conf->obd.timeout_ms;
	if (d->obd == NULL)
		record_obd_clear(os);
	else
		obd_get_sample(d->obd, ev_now_ms(d->loop), max_age, os);
}

/*
 * Local civil time for the rules: the device zone's offset at t, then
 * the civil date of the shifted instant (gmtime_r does no zone lookup).
 */
static int
rules_localtime(int64_t t_utc_ms, struct calendar_date *date, int *sec,
    void *arg)
{
	struct daemon	*d = arg;
	struct tm	 tm;
	time_t		 tt;
	int		 off;

	if (timefmt_offset(t_utc_ms, d->conf->device.timezone, &off) != 0)
		return -1;
	tt = (time_t)((t_utc_ms - (t_utc_ms % 1000 + 1000) % 1000) / 1000) +
	    off;
	if (gmtime_r(&tt, &tm) == NULL)
		return -1;
	date->year = tm.tm_year + 1900;
	date->month = tm.tm_mon + 1;
	date->day = tm.tm_mday;
	*sec = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

/* An event from the rules: to the store, urgent ones committed at once. */
static void
on_rule_event(const struct rules_event *ev, void *arg)
{
	struct daemon	*d = arg;
	char		 tbuf[64];
	int		 rc;

	if ((rc = store_event_put(d->store, ev)) == 1)
		d->rules_urgent = 1;
	d->rules_dirty = 1;
	if (timefmt_format(ev->phase == RULES_EV_CLOSE ? ev->end_utc_ms :
	    ev->start_utc_ms, d->conf->device.timezone, tbuf,
	    sizeof(tbuf)) != 0)
		util_strlcpy(tbuf, "?", sizeof(tbuf));
	if (ev->severity >= RULES_VIOLATION && ev->phase != RULES_EV_CLOSE)
		log_warnx("rules: %s (%s) %s at %s%s%s", rules_type_name(ev->type),
		    rules_severity_name(ev->severity),
		    ev->phase == RULES_EV_OPEN ? "began" : "detected", tbuf,
		    ev->fence_id[0] != '\0' ? ", fence " : "", ev->fence_id);
	else
		log_info("rules: %s (%s) %s at %s%s%s", rules_type_name(ev->type),
		    rules_severity_name(ev->severity),
		    ev->phase == RULES_EV_OPEN ? "began" :
		    ev->phase == RULES_EV_CLOSE ? "ended" : "detected", tbuf,
		    ev->fence_id[0] != '\0' ? ", fence " : "", ev->fence_id);
}

/*
 * After the rules saw an input: their state goes to the store with the
 * next commit, in the same transaction as the events they reported;
 * violation and critical events are committed now (DESIGN.md §2).
 */
static void
rules_sync(struct daemon *d)
{
	json_t	*st;
	char	*text;

	if ((st = rules_save(d->rules)) != NULL) {
		if ((text = json_dumps(st, JSON_COMPACT)) != NULL) {
			(void)store_rules_state(d->store, text);
			free(text);
		}
		json_decref(st);
	}
	d->rules_dirty = 0;
	if (d->rules_urgent) {
		d->rules_urgent = 0;
		(void)store_commit(d->store);
	}
}

struct orders_acc {
	struct rules_order	*o;
	size_t			 n;
};

static int
order_acc(const struct store_order *so, void *arg)
{
	struct orders_acc	*a = arg;

	if (a->n == ORDERS_MAX)
		return 1;
	a->o[a->n++] = so->o;
	return 0;
}

/* The dispatch orders of the store, to the rules. */
static void
load_orders(struct daemon *d)
{
	struct orders_acc	a;

	a.o = xcalloc(ORDERS_MAX, sizeof(*a.o));
	a.n = 0;
	if (store_query_orders(d->store, INT64_MIN, INT64_MAX, order_acc,
	    &a) == 0)
		rules_set_orders(d->rules, a.o, a.n);
	free(a.o);
}

static struct calendar *
build_calendar(const struct config *c)
{
	struct calendar		*cal;
	char			 why[256];

	if ((cal = platformset_calendar(c, NULL, NULL, why, sizeof(why))) ==
	    NULL)
		log_warnx("main: %s: calendar: %s", c->file, why);
	return cal;
}

/* Restore what the rules knew when the previous run stopped. */
static void
restore_rules(struct daemon *d)
{
	json_error_t	 jerr;
	json_t		*st;
	char		*text;

	if ((text = store_rules_state_get(d->store)) == NULL)
		return;
	if ((st = json_loads(text, 0, &jerr)) == NULL)
		log_warnx("main: saved rules state unreadable (%s), starting "
		    "afresh", jerr.text);
	else if (rules_restore(d->rules, st) == -1)
		log_warnx("main: saved rules state not usable, starting "
		    "afresh");
	else
		log_info("main: rules state restored, %zu episodes open",
		    rules_open_count(d->rules));
	json_decref(st);
	free(text);
}

static void
on_rules_timer(void *arg)
{
	struct daemon	*d = arg;
	int64_t		 now = gnss_now_ms(d);

	if (now != INT64_MIN) {
		rules_tick(d->rules, now);
		if (d->rules_dirty)
			rules_sync(d);
	}
	ev_timer_set(d->loop, &d->rules_timer, RULES_TICK_MS);
}

static void
on_trip(const struct trip_event *ev, void *arg)
{
	struct daemon		*d = arg;
	struct trip_summary	 t;
	char			 tbuf[64];

	switch (ev->type) {
	case TRIP_STARTED:
		t = *ev->trip;
		if (store_trip_begin(d->store, &t) == -1) {
			log_warnx("main: trip started but could not be "
			    "stored; will retry with its progress");
			d->trip_id = 0;
		} else
			d->trip_id = t.id;
		if (timefmt_format(t.start_utc_ms, d->conf->device.timezone,
		    tbuf, sizeof(tbuf)) != 0)
			util_strlcpy(tbuf, "?", sizeof(tbuf));
		log_info("main: trip %" PRIu64 " started at %s", d->trip_id,
		    tbuf);
		rules_trip_start(d->rules, d->trip_id, t.start_utc_ms);
		break;
	case TRIP_ENDED:
		t = *ev->trip;
		if (t.id == 0)
			t.id = d->trip_id;
		if (t.id == 0 && store_trip_begin(d->store, &t) == -1)
			log_warnx("main: trip could not be stored");
		if (t.id != 0 && store_trip_end(d->store, &t) == -1)
			log_warnx("main: end of trip %" PRIu64 " could not be "
			    "stored", t.id);
		log_info("main: trip %" PRIu64 " ended (%s): %.2f km in %.0f s,"
		    " idle %.0f s, max %.0f km/h%s", t.id,
		    store_trip_end_name(t.ended_by), t.distance_m / 1000.0,
		    t.duration_s, t.idle_s, t.max_speed_kmh,
		    t.towed ? ", towed while parked" : "");
		if (t.ended_by == TRIP_END_POWER_LOSS)
			rules_trip_lost(d->rules, t.id, t.end_utc_ms);
		else
			rules_trip_end(d->rules, t.id, t.end_utc_ms);
		d->trip_id = 0;
		break;
	case TRIP_TOWING:
		if (timefmt_format(ev->t_utc_ms, d->conf->device.timezone,
		    tbuf, sizeof(tbuf)) != 0)
			util_strlcpy(tbuf, "?", sizeof(tbuf));
		log_warnx("main: vehicle moving with the engine off since %s "
		    "(towed or carried)", tbuf);
		break;
	}
}

/* Persist the open trip's progress with the next batch commit. */
static void
trip_progress(struct daemon *d)
{
	const struct trip_summary	*cur;
	struct trip_summary		 t;

	if ((cur = trip_current(&d->trip)) == NULL || d->trip_id == 0)
		return;
	t = *cur;
	t.id = d->trip_id;
	(void)store_trip_progress(d->store, &t);
}

/* Before each poll(): close trips whose timeouts ran out. */
static void
on_prepare(void *arg)
{
	struct daemon	*d = arg;
	int64_t		 now = gnss_now_ms(d);

	if (now != INT64_MIN)
		trip_tick(&d->trip, now);
}

static void
on_obd(struct obd *o, enum obd_event ev, void *arg)
{
	struct daemon		*d = arg;
	struct obd_status	 st;
	struct obd_sample	 os;
	struct trip_obd		 to;
	int64_t			 now = gnss_now_ms(d);
	int			 n;
	size_t			 i;

	switch (ev) {
	case OBD_EV_VALUES:
		if (now == INT64_MIN)
			break;		/* no GNSS time yet to put it at */
		if (now < d->obd_utc_ms)
			now = d->obd_utc_ms;
		d->obd_utc_ms = now;
		obd_sample_now(d, &os);
		to.rpm = os.rpm;
		to.battery_v = os.battery_v;
		to.speed_kmh = os.speed_kmh;
		to.fuel_level_pct = os.fuel_level_pct;
		to.fuel_rate_lph = os.fuel_rate_lph;
		to.odometer_km = os.odometer_km;
		trip_on_obd(&d->trip, &to, now);
		rules_on_obd(d->rules, &os, now);
		rules_sync(d);
		break;
	case OBD_EV_DTCS:
		obd_get_status(o, &st);
		if (now == INT64_MIN)
			break;
		if ((n = store_dtc_scan(d->store, st.dtc, st.ndtc, now)) > 0)
			for (i = 0; i < st.ndtc; i++)
				log_warnx("main: trouble code %s (%s)",
				    st.dtc[i].code, obd_dtc_kind(st.dtc[i].mode));
		rules_on_dtcs(d->rules, st.dtc, st.ndtc, now);
		rules_sync(d);
		break;
	case OBD_EV_VIN:
		obd_get_status(o, &st);
		if (st.vin[0] != '\0')
			(void)store_set_vin(d->store, st.vin);
		break;
	case OBD_EV_STATE:
		obd_get_status(o, &st);
		if (now == INT64_MIN)
			break;
		/*
		 * The adapter's link: NO_ECU is an adapter that answers while
		 * the ECUs are silent, which is the ignition going off, not
		 * the adapter lost.  INIT is on the way up or down: no news.
		 */
		if (st.state == OBD_UP || st.state == OBD_NO_ECU)
			rules_on_obd_link(d->rules, true, now);
		else if (st.state == OBD_DOWN)
			rules_on_obd_link(d->rules, false, now);
		rules_sync(d);
		break;
	}
}

static void
on_fix(const struct fix *fx, void *arg)
{
	struct daemon		*d = arg;
	struct obd_sample	 os;
	uint64_t		 now = ev_now_ms(d->loop);

	clocktrust_fix(&d->trust, fx->t_utc_ms, now);
	d->last_fix_utc_ms = fx->t_utc_ms;
	d->last_fix_mono_ms = now;
	d->last_fix = *fx;
	if (d->power_loss) {
		d->power_loss = 0;
		rules_power_loss(d->rules, d->power_loss_last_ms, fx->t_utc_ms,
		    d->power_loss_in_trip);
	}
	obd_sample_now(d, &os);
	(void)store_put_position_obd(d->store, fx,
	    record_obd_any(&os) ? &os : NULL, now);
	trip_on_fix(&d->trip, fx);
	trip_progress(d);
	rules_on_fix(d->rules, fx);
	if (access(timesync_flag(), F_OK) == 0)
		rules_on_clock(d->rules, fx->t_utc_ms, util_real_ms());
	rules_sync(d);
	(void)store_commit_due(d->store, now);
	schedule_commit(d);
	if (d->retention_pending && gnss_time_trusted(d)) {
		d->retention_pending = 0;
		run_retention(d);
	}
}

/*
 * Sign the chains' heads (checkpoint.h) when they moved, or always with
 * force; GNSS time, the system's before the first fix.  1 made, 0
 * nothing to do (no key, nothing new), -1 failed (logged).
 */
static int
make_checkpoint(struct daemon *d, const char *reason, bool force)
{
	int64_t	 t = gnss_now_ms(d);

	if (d->key == NULL || d->store == NULL)
		return 0;
	if (t == INT64_MIN)
		t = util_real_ms();
	return checkpoint_make(d->store, d->key, d->conf->device.id, t,
	    reason, force, d->cp_last);
}

static void
on_checkpoint_timer(void *arg)
{
	struct daemon	*d = arg;

	(void)make_checkpoint(d, "interval", false);
	ev_timer_set(d->loop, &d->checkpoint_timer,
	    (uint64_t)d->conf->signing.checkpoint_interval_s * 1000);
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

	struct obd_status	os;
	size_t			n;

	gnss_get_status(d->gnss, &gs);
	store_get_stats(d->store, &ss);
	obd_get_status(d->obd, &os);
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
	n = strlen(buf);
	if (os.state != OBD_OFF && n < len)
		snprintf(buf + n, len - n, "; obd %s", obd_state_name(os.state));
	n = strlen(buf);
	if (trip_current(&d->trip) != NULL && n < len)
		snprintf(buf + n, len - n, "; trip %" PRIu64 " %.1f km",
		    d->trip_id, trip_current(&d->trip)->distance_m / 1000.0);
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

/* A number, or null when unknown. */
static json_t *
json_num(double v, double scale)
{
	if (!isfinite(v))
		return json_null();
	return json_real(round(v * scale) / scale);
}

static json_t *
obd_json(struct daemon *d)
{
	struct obd_status	 st;
	struct obd_sample	 os;
	json_t			*o, *vals, *dtcs;
	size_t			 i;
	const struct {
		const char	*key;
		const double	*v;
		double		 scale;
	} f[] = {
		{ "rpm", &os.rpm, 1 },
		{ "speed_kmh", &os.speed_kmh, 1 },
		{ "coolant_c", &os.coolant_c, 1 },
		{ "intake_c", &os.intake_c, 1 },
		{ "ambient_c", &os.ambient_c, 1 },
		{ "load_pct", &os.load_pct, 10 },
		{ "throttle_pct", &os.throttle_pct, 10 },
		{ "maf_gps", &os.maf_gps, 100 },
		{ "fuel_level_pct", &os.fuel_level_pct, 10 },
		{ "fuel_rate_lph", &os.fuel_rate_lph, 100 },
		{ "battery_v", &os.battery_v, 100 },
		{ "odometer_km", &os.odometer_km, 10 },
		{ "run_time_s", &os.run_time_s, 1 },
	};

	obd_get_status(d->obd, &st);
	obd_sample_now(d, &os);
	vals = json_object();
	for (i = 0; i < NELEM(f); i++)
		if (isfinite(*f[i].v))
			json_object_set_new(vals, f[i].key,
			    json_num(*f[i].v, f[i].scale));
	if (isfinite(os.fuel_rate_lph))
		json_object_set_new(vals, "fuel_rate_estimated",
		    json_boolean(os.fuel_rate_estimated));
	dtcs = json_array();
	for (i = 0; i < st.ndtc; i++)
		json_array_append_new(dtcs, json_pack("{s:s, s:s}",
		    "code", st.dtc[i].code, "kind",
		    obd_dtc_kind(st.dtc[i].mode)));
	o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:o, "
	    "s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i}",
	    "driver", st.driver, "device", st.device,
	    "state", obd_state_name(st.state), "adapter", st.adapter,
	    "protocol_num", st.protocol_num, "protocol", st.protocol,
	    "vin", st.vin[0] != '\0' ? json_string(st.vin) : json_null(),
	    "vin_check_ok", st.vin[0] != '\0' ?
	    json_boolean(st.vin_check_ok) : json_null(),
	    "values", vals,
	    "mil_on", os.mil_on < 0 ? json_null() : json_boolean(os.mil_on),
	    "last_error", st.last_error,
	    "requests", (json_int_t)st.requests,
	    "replies", (json_int_t)st.replies,
	    "no_data", (json_int_t)st.no_data,
	    "errors", (json_int_t)st.errors,
	    "timeouts", (json_int_t)st.timeouts,
	    "bad_replies", (json_int_t)st.bad_replies,
	    "reconnects", (json_int_t)st.reconnects,
	    "supported_pids", (int)st.supported_pids);
	json_object_set_new(o, "dtcs", st.dtcs_read ? dtcs : json_null());
	if (!st.dtcs_read)
		json_decref(dtcs);
	if (st.values_mono_ms != 0)
		json_object_set_new(o, "values_age_s", json_real(round(
		    (double)(ev_now_ms(d->loop) - st.values_mono_ms) / 100.0) /
		    10.0));
	return o;
}

/* The open trip, or null. */
static json_t *
trip_json(struct daemon *d)
{
	const struct trip_summary	*t;
	char				 tbuf[64];

	if ((t = trip_current(&d->trip)) == NULL)
		return json_null();
	if (timefmt_format(t->start_utc_ms, d->conf->device.timezone, tbuf,
	    sizeof(tbuf)) != 0)
		tbuf[0] = '\0';
	return json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o}",
	    "id", (json_int_t)d->trip_id, "start", tbuf,
	    "duration_s", json_num(t->duration_s, 1),
	    "distance_m", json_num(t->distance_m, 10),
	    "driving_s", json_num(t->driving_s, 1),
	    "idle_s", json_num(t->idle_s, 1),
	    "max_speed_kmh", json_num(t->max_speed_kmh, 10),
	    "avg_speed_kmh", json_num(t->avg_speed_kmh, 10),
	    "fuel_used_l", json_num(t->fuel_used_l, 1000),
	    "odometer_start_km", json_num(t->odometer_start_km, 10),
	    "start_lat", json_num(t->start_lat_deg, 1e7),
	    "start_lon", json_num(t->start_lon_deg, 1e7));
}

static json_t *
status_json(struct daemon *d)
{
	struct gnss_status	 gs;
	struct store_stats	 ss;
	json_t			*root, *g, *cons, *s;
	char			 tbuf[64];
	enum gnss_sys		 i;
	size_t			 index, total;

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
	    "next_seq", (json_int_t)ss.next_seq[STORE_STREAM_POSITIONS],
	    "commits", (json_int_t)ss.commits,
	    "dropped", (json_int_t)ss.dropped);
	json_object_set_new(s, "trips", json_integer((json_int_t)ss.trips));
	json_object_set_new(s, "dtcs_active",
	    json_integer((json_int_t)ss.dtcs_active));
	json_object_set_new(s, "events", json_integer((json_int_t)ss.events));
	json_object_set_new(s, "events_open",
	    json_integer((json_int_t)ss.events_open));
	root = json_pack("{s:b, s:s, s:{s:s, s:s, s:s}, s:I, s:o, s:o, s:o, "
	    "s:o}",
	    "ok", 1, "version", FLEETGW_VERSION,
	    "device", "id", d->conf->device.id, "plate", d->conf->device.plate,
	    "timezone", d->conf->device.timezone,
	    "uptime_s", (json_int_t)((ev_now_ms(d->loop) -
	    d->start_mono_ms) / 1000),
	    "gnss", g, "obd", obd_json(d), "trip", trip_json(d),
	    "store", s);
	total = fence_set_memory(d->fences, &index);
	json_object_set_new(root, "fences", json_pack("{s:I, s:I, s:I}",
	    "count", (json_int_t)fence_set_count(d->fences),
	    "index_kib", (json_int_t)((index + 1023) / 1024),
	    "total_kib", (json_int_t)((total + 1023) / 1024)));
	json_object_set_new(root, "sync", d->sync != NULL ?
	    sync_status_json(d->sync) : json_pack("{s:b}", "enabled", 0));
	json_object_set_new(root, "rules", json_pack("{s:I, s:o}",
	    "episodes_open", (json_int_t)rules_open_count(d->rules),
	    "dispatch_order", rules_covering_order(d->rules, gnss_now_ms(d))
	    != NULL ? json_string(rules_covering_order(d->rules,
	    gnss_now_ms(d))) : json_null()));
	return root;
}

/*
 * "fences": one page of the loaded fences, {"offset": N, "limit": M}
 * (default 0 and CTL_FENCES_PAGE), so that a big set fits the reply cap.
 */
static json_t *
fences_json(struct daemon *d, const json_t *req)
{
	json_t		*list;
	json_int_t	 off = 0, lim = CTL_FENCES_PAGE;
	size_t		 i, n = fence_set_count(d->fences);

	if (json_object_get(req, "offset") != NULL)
		off = json_integer_value(json_object_get(req, "offset"));
	if (json_object_get(req, "limit") != NULL)
		lim = json_integer_value(json_object_get(req, "limit"));
	if (off < 0 || lim <= 0 || lim > CTL_FENCES_PAGE)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "offset must be an integer >= 0 and limit 1.."
		    CTL_FENCES_PAGE_STR);
	list = json_array();
	for (i = (size_t)off; i < n && i < (size_t)off + (size_t)lim; i++)
		json_array_append_new(list, fencejson_info(d->fences, i));
	return json_pack("{s:b, s:I, s:I, s:o}", "ok", 1, "total",
	    (json_int_t)n, "offset", off, "fences", list);
}

/* "fences_at": {"lon": X, "lat": Y, "crs": "gcj02"} (crs default wgs84). */
static json_t *
fences_at_json(struct daemon *d, const json_t *req)
{
	const json_t	*lon = json_object_get(req, "lon");
	const json_t	*lat = json_object_get(req, "lat");
	const char	*crsname = json_string_value(json_object_get(req, "crs"));
	enum geo_crs	 crs = GEO_CRS_WGS84;
	json_t		*at;

	if (!json_is_number(lon) || !json_is_number(lat) ||
	    !(fabs(json_number_value(lon)) <= 180.0) ||
	    !(fabs(json_number_value(lat)) <= 90.0))
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "lon and lat must be numbers in -180..180 and -90..90");
	if (crsname != NULL && geo_crs_parse(crsname, &crs) == -1)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "crs must be wgs84, cgcs2000, gcj02 or bd09");
	at = fencejson_at(d->fences, json_number_value(lon),
	    json_number_value(lat), crs);
	json_object_set_new(at, "ok", json_true());
	return at;
}

/*
 * "dispatch_add" {"order": {...}} and "dispatch_remove" {"id": "..."}:
 * administrators only (root, the daemon's user, ctl.admin_group).  The
 * order goes to the store and, at once, to the rules.
 */
static json_t *
dispatch_add_json(struct daemon *d, const json_t *req)
{
	struct store_order	 so;
	char			 why[256];
	int64_t			 now = gnss_now_ms(d);
	int			 rc;

	if (dispatch_from_json(json_object_get(req, "order"),
	    d->conf->device.timezone, &so, why, sizeof(why)) == -1)
		return json_pack("{s:b, s:s}", "ok", 0, "error", why);
	util_strlcpy(so.source, "ctl", sizeof(so.source));
	so.created_utc_ms = now != INT64_MIN ? now : util_real_ms();
	if ((rc = store_order_add(d->store, &so)) == 1)
		return json_pack("{s:b, s:s+}", "ok", 0, "error",
		    "an order with this id exists: ", so.o.id);
	if (rc == -1)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "the order could not be stored (see the daemon log)");
	load_orders(d);
	log_info("main: dispatch order %s added (%s, approved by %s)",
	    so.o.id, so.purpose, so.approver);
	return json_pack("{s:b, s:o}", "ok", 1, "order",
	    dispatch_to_json(&so, d->conf->device.timezone));
}

static json_t *
dispatch_remove_json(struct daemon *d, const json_t *req)
{
	const char	*id = json_string_value(json_object_get(req, "id"));
	int		 rc;

	if (id == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "request has no \"id\" string");
	if ((rc = store_order_remove(d->store, id)) == 0)
		return json_pack("{s:b, s:s+}", "ok", 0, "error",
		    "no such order: ", id);
	if (rc == -1)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "the order could not be removed (see the daemon log)");
	load_orders(d);
	log_info("main: dispatch order %s removed", id);
	return json_pack("{s:b}", "ok", 1);
}

/* ---- the daily check (每日一小检, vcheck.h) --------------------------- */

_Static_assert(VCHECK_STREAMS == STORE_STREAMS,
    "vcheck's streams are the store's");

/* OBD values stay "a reading" for at least this many slow poll periods. */
#define CHECK_SLOW_PERIODS	2

/*
 * What the check judges, gathered now: the latest OBD values and DTC
 * scan, the GNSS state and last fix, the database's file system, the
 * upload backlog, and the system clock against GNSS time.  lim's OBD
 * window is widened to two slow poll periods when those are longer.
 */
static void
check_snapshot(struct daemon *d, struct vcheck_limits *lim,
    struct vcheck_snapshot *s)
{
	struct obd_status		 os;
	struct obd_sample		 smp;
	struct gnss_status		 gs;
	struct store_stream_state	 ss;
	struct statvfs			 vfs;
	struct stat			 sb;
	const char			*path = d->conf->storage.path;
	char				*wal;
	uint64_t			 now = ev_now_ms(d->loop), slow;
	int64_t				 gnow = gnss_now_ms(d);
	int				 i;

	vcheck_snapshot_clear(s);

	obd_get_status(d->obd, &os);
	switch (os.state) {
	case OBD_OFF:
		s->obd = VCHECK_OBD_NONE;
		break;
	case OBD_DOWN:
	case OBD_INIT:
		s->obd = VCHECK_OBD_DOWN;
		break;
	case OBD_NO_ECU:
		s->obd = VCHECK_OBD_NO_ECU;
		break;
	case OBD_UP:
		s->obd = VCHECK_OBD_UP;
		break;
	}
	util_strlcpy(s->obd_state, obd_state_name(os.state),
	    sizeof(s->obd_state));
	util_strlcpy(s->obd_error, os.last_error, sizeof(s->obd_error));
	slow = (uint64_t)d->conf->obd.poll_slow_ms * CHECK_SLOW_PERIODS +
	    (uint64_t)d->conf->obd.timeout_ms;
	if (slow > (uint64_t)lim->obd_window_ms)
		lim->obd_window_ms = (int64_t)slow;
	obd_get_sample(d->obd, now, (uint64_t)lim->obd_window_ms, &smp);
	s->rpm = smp.rpm;
	s->battery_v = smp.battery_v;
	s->coolant_c = smp.coolant_c;
	s->fuel_level_pct = smp.fuel_level_pct;
	s->run_time_s = smp.run_time_s;
	s->mil_on = smp.mil_on;
	if (os.values_mono_ms != 0 &&
	    now - os.values_mono_ms <= (uint64_t)lim->obd_window_ms)
		s->obd_age_ms = (int64_t)(now - os.values_mono_ms);
	s->dtcs_read = os.dtcs_read;
	s->ndtc = os.ndtc < VCHECK_MAX_DTCS ? os.ndtc : VCHECK_MAX_DTCS;
	memcpy(s->dtc, os.dtc, s->ndtc * sizeof(s->dtc[0]));

	gnss_get_status(d->gnss, &gs);
	switch (gs.state) {
	case GNSS_DOWN:
		s->fix = VCHECK_FIX_DOWN;
		break;
	case GNSS_NODATA:
		s->fix = VCHECK_FIX_NODATA;
		break;
	case GNSS_NOFIX:
		s->fix = VCHECK_FIX_NONE;
		break;
	case GNSS_FIX2D:
		s->fix = VCHECK_FIX_2D;
		break;
	case GNSS_FIX3D:
		s->fix = VCHECK_FIX_3D;
		break;
	}
	s->sats_used = gs.sats_used;
	s->sats_visible = gs.sats_visible;
	if (d->last_fix_mono_ms != 0) {
		s->hdop = d->last_fix.hdop;
		s->fix_age_ms = (int64_t)(now - d->last_fix_mono_ms);
	}

	/* f_bavail: what the daemon's (unprivileged) user may still use. */
	if (statvfs(path, &vfs) == 0) {
		s->fs_known = true;
		s->fs_free_bytes = (uint64_t)vfs.f_bavail *
		    (uint64_t)vfs.f_frsize;
	} else
		log_warn("main: check: statvfs %s", path);
	if (stat(path, &sb) == 0)
		s->db_bytes += (uint64_t)sb.st_size;
	wal = xasprintf("%s-wal", path);
	if (stat(wal, &sb) == 0)
		s->db_bytes += (uint64_t)sb.st_size;
	free(wal);
	s->max_size_mb = d->conf->storage.max_size_mb;

	/* Record times are GNSS times; the system clock only when synced. */
	s->platform = d->conf->platform.enabled;
	s->clock_synced = access(timesync_flag(), F_OK) == 0;
	s->now_utc_ms = gnow != INT64_MIN ? gnow : s->clock_synced ?
	    util_real_ms() : INT64_MIN;
	for (i = 0; s->platform && i < STORE_STREAMS; i++) {
		s->stream[i].name = store_stream_name((enum store_stream)i);
		if (store_stream_state(d->store, (enum store_stream)i, &ss) ==
		    -1)
			continue;
		s->stream[i].known = true;
		s->stream[i].pending = ss.pending;
		s->stream[i].oldest_pending_utc_ms = ss.oldest_pending_utc_ms;
		s->stream[i].quarantined = ss.quarantined;
	}

	if (gnow != INT64_MIN) {
		s->gnss_time = true;
		s->clock_offset_s = (double)(util_real_ms() - gnow) / 1000.0;
	}
	s->clock_trusted = gnss_time_trusted(d);
	s->clock_fixes = d->trust.run;
}

struct check_found {
	uint64_t	id;
	uint64_t	seq;
};

static int
check_found_cb(const struct store_event *ev, void *arg)
{
	struct check_found	*f = arg;

	if (ev->id >= f->id) {
		f->id = ev->id;
		f->seq = ev->seq;
	}
	return 0;
}

/*
 * "check": run the daily check, keep it as an "inspection" event
 * (severity info when every item passed, warning otherwise: a failed
 * check asks for a mechanic, it is not a breach of the rules), commit it
 * at once and reply {"ok": true, "result", "items", "uid", "time",
 * "event_id", "event_seq"} (the two ids null when the commit failed; the
 * event then goes with the next commit).
 */
static json_t *
check_json(struct daemon *d, const struct ctl_peer *peer)
{
	struct vcheck_limits	 lim;
	struct vcheck_snapshot	 s;
	struct vcheck_result	 r;
	struct check_found	 f = { 0, 0 };
	json_t			*details, *reply;
	char			 tbuf[64], bad[160];
	size_t			 i, n;
	int64_t			 t;

	vcheck_limits_default(&lim);
	check_snapshot(d, &lim, &s);
	vcheck_run(&s, &lim, &r);
	if ((t = gnss_now_ms(d)) == INT64_MIN)
		t = util_real_ms();
	details = vcheck_result_json(&r);
	json_object_set_new(details, "uid", json_integer((json_int_t)
	    peer->uid));
	reply = json_deep_copy(details);
	rules_raise_severity(d->rules, RULES_INSPECTION, r.overall ==
	    VCHECK_PASS ? RULES_INFO : RULES_WARNING, t, details);
	rules_sync(d);
	if (store_commit(d->store) == 0)
		(void)store_query_events(d->store, t, t + 1, RULES_INSPECTION,
		    -1, 0, check_found_cb, &f);
	schedule_commit(d);

	bad[0] = '\0';
	for (i = 0; i < r.n; i++) {
		if (r.item[i].status == VCHECK_PASS)
			continue;
		n = strlen(bad);
		snprintf(bad + n, sizeof(bad) - n, "%s%s %s", n > 0 ? ", " :
		    " (", r.item[i].name, vcheck_status_name(r.item[i].status));
	}
	if (bad[0] != '\0' && strlen(bad) + 1 < sizeof(bad))
		strcat(bad, ")");
	log_info("main: daily check by uid %ld: %s%s", (long)peer->uid,
	    vcheck_status_name(r.overall), bad);

	json_object_set_new(reply, "ok", json_true());
	if (timefmt_format(t, d->conf->device.timezone, tbuf,
	    sizeof(tbuf)) == 0)
		json_object_set_new(reply, "time", json_string(tbuf));
	json_object_set_new(reply, "event_id", f.id != 0 ?
	    json_integer((json_int_t)f.id) : json_null());
	json_object_set_new(reply, "event_seq", f.id != 0 ?
	    json_integer((json_int_t)f.seq) : json_null());
	return reply;
}

/* ---- the platform: sync and its commands ---------------------------- */

static void
sync_opts_from_config(const struct config *c, struct sync_opts *o)
{
	const struct config_platform *p = &c->platform;

	memset(o, 0, sizeof(*o));
	o->url = p->url;
	o->ca_file = p->ca_path[0] != '\0' ? p->ca_path : NULL;
	o->cert_file = p->cert_path[0] != '\0' ? p->cert_path : NULL;
	o->key_file = p->key_path[0] != '\0' ? p->key_path : NULL;
	o->pinned_pubkey = p->pinned_pubkey[0] != '\0' ? p->pinned_pubkey :
	    NULL;
	o->allow_insecure_http = p->allow_insecure_http;
	o->device_id = c->device.id;
	o->timezone = c->device.timezone;
	o->connect_timeout_s = p->connect_timeout_s;
	o->timeout_s = p->timeout_s;
	o->stall_timeout_s = p->stall_timeout_s;
	o->batch_records = p->batch_records;
	o->batch_bytes = p->batch_bytes;
	o->backoff_base_s = p->backoff_base_s;
	o->backoff_cap_s = p->backoff_cap_s;
	o->retry_after_max_s = p->retry_after_max_s;
	o->auth_backoff_s = p->auth_backoff_s;
	o->poll_wait_s = p->poll_wait_s;
	o->start_delay_max_s = p->start_delay_max_s;
}

/*
 * The signing key of c, or NULL after printing why (to the log or
 * stderr).  No platform and no signing group: NULL without a message.
 */
static struct sign_key *
load_key(const struct config *c, int to_log)
{
	struct sign_key	*k;
	char		 why[512];

	if (!c->signing.enabled)
		return NULL;
	if ((k = sign_key_load(c->signing.key_path, why, sizeof(why))) ==
	    NULL) {
		if (to_log)
			log_warnx("main: signing.key_file: %s", why);
		else
			fprintf(stderr, "%s: signing.key_file: %s\n", c->file,
			    why);
	}
	return k;
}

static int64_t
sync_now(void *arg)
{
	struct daemon	*d = arg;
	int64_t		 t = gnss_now_ms(d);

	return t != INT64_MIN ? t : util_real_ms();
}

/* locate (点名): where the vehicle is now and what it is doing. */
static json_t *
cmd_locate(struct daemon *d)
{
	const struct fix		*fx = &d->last_fix;
	const struct trip_summary	*t = trip_current(&d->trip);
	json_t				*r, *trip;
	char				 tbuf[64], sbuf[64];
	int				 have = d->last_fix_mono_ms != 0;
	const char			*state = "parked";

	if (t != NULL)
		state = have && isfinite(fx->speed_mps) &&
		    fx->speed_mps * 3.6 >= 3.0 ? "driving" : "idle";
	if (!have || timefmt_format(fx->t_utc_ms, d->conf->device.timezone,
	    tbuf, sizeof(tbuf)) != 0)
		tbuf[0] = '\0';
	if (t == NULL || timefmt_format(t->start_utc_ms,
	    d->conf->device.timezone, sbuf, sizeof(sbuf)) != 0)
		sbuf[0] = '\0';
	trip = json_pack("{s:s, s:o, s:o, s:o}", "state", state,
	    "id", t != NULL ? json_integer((json_int_t)d->trip_id) :
	    json_null(),
	    "start", sbuf[0] != '\0' ? json_string(sbuf) : json_null(),
	    "distance_m", t != NULL ? json_num(t->distance_m, 10) :
	    json_null());
	r = json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o}",
	    "time", tbuf[0] != '\0' ? json_string(tbuf) : json_null(),
	    "lat", have ? json_num(fx->lat_deg, 1e7) : json_null(),
	    "lon", have ? json_num(fx->lon_deg, 1e7) : json_null(),
	    "speed_kmh", have ? json_num(fx->speed_mps * 3.6, 10) :
	    json_null(),
	    "heading_deg", have ? json_num(fx->heading_deg, 10) :
	    json_null(),
	    "fix", !have ? "none" : fx->mode >= 3 ? "3d" : "2d",
	    "sats_used", have && fx->sats_used >= 0 ?
	    json_integer(fx->sats_used) : json_null(),
	    "trip", trip);
	return r;
}

struct platform_orders {
	char	(*ids)[RULES_ORDER_ID_MAX + 1];
	size_t	  n;
};

static int
platform_order_acc(const struct store_order *o, void *arg)
{
	struct platform_orders	*p = arg;

	if (strcmp(o->source, "platform") != 0 || p->n == ORDERS_MAX)
		return 0;
	util_strlcpy(p->ids[p->n++], o->o.id, sizeof(p->ids[0]));
	return 0;
}

/*
 * set_dispatch_orders: the platform's orders become args.orders; orders
 * entered locally stay.  Every order is checked before anything changes.
 */
static json_t *
cmd_set_orders(struct daemon *d, json_t *args, const char **status,
    char *err, size_t errlen)
{
	json_t			*list = json_object_get(args, "orders"), *o;
	struct store_order	*orders;
	struct platform_orders	 old;
	char			 why[256];
	size_t			 i, j, n, added = 0, removed = 0;
	int64_t			 now = sync_now(d);

	*status = "error";
	if (!json_is_array(list)) {
		snprintf(err, errlen, "args.orders: an array expected");
		return NULL;
	}
	if ((n = json_array_size(list)) > ORDERS_MAX) {
		snprintf(err, errlen, "args.orders: more than %d orders",
		    ORDERS_MAX);
		return NULL;
	}
	orders = xcalloc(n + 1, sizeof(*orders));
	json_array_foreach(list, i, o) {
		json_t	*in = json_deep_copy(o);
		int	 bad;

		/* As listed: what the listing adds is not the platform's. */
		json_object_del(in, "source");
		json_object_del(in, "created");
		bad = dispatch_from_json(in, d->conf->device.timezone,
		    &orders[i], why, sizeof(why));
		json_decref(in);
		if (bad == -1) {
			snprintf(err, errlen, "args.orders[%zu]: %s", i, why);
			free(orders);
			return NULL;
		}
		util_strlcpy(orders[i].source, "platform",
		    sizeof(orders[i].source));
		orders[i].created_utc_ms = now;
		for (j = 0; j < i; j++)
			if (strcmp(orders[j].o.id, orders[i].o.id) == 0) {
				snprintf(err, errlen, "args.orders[%zu]: id %s "
				    "given twice", i, orders[i].o.id);
				free(orders);
				return NULL;
			}
	}
	old.ids = xcalloc(ORDERS_MAX, sizeof(*old.ids));
	old.n = 0;
	if (store_query_orders(d->store, INT64_MIN, INT64_MAX,
	    platform_order_acc, &old) == -1)
		goto store_fail;
	for (i = 0; i < old.n; i++) {
		if (store_order_remove(d->store, old.ids[i]) == -1)
			goto store_fail;
		removed++;
	}
	for (i = 0; i < n; i++) {
		switch (store_order_add(d->store, &orders[i])) {
		case 0:
			added++;
			break;
		case 1:
			log_warnx("main: platform dispatch order %s: an order "
			    "with this id was entered locally; kept that one",
			    orders[i].o.id);
			break;
		default:
			goto store_fail;
		}
	}
	free(old.ids);
	free(orders);
	load_orders(d);
	log_info("main: dispatch orders from the platform: %zu added, %zu "
	    "replaced", added, removed);
	*status = "ok";
	return json_pack("{s:I, s:I}", "added", (json_int_t)added,
	    "removed", (json_int_t)removed);
store_fail:
	free(old.ids);
	free(orders);
	load_orders(d);
	snprintf(err, errlen, "the orders could not be stored (see the "
	    "gateway log)");
	return NULL;
}

/* Swap in a new fence set (from set_fences or a reload). */
static void
use_fences(struct daemon *d, struct fence_set *set)
{
	rules_set_fences(d->rules, set);
	fence_set_free(d->fences);
	d->fences = set;
	log_fences(d->fences);
}

/*
 * set_fences: args.geojson (a FeatureCollection) replaces the fences the
 * platform set before; validated like a file at reload, nothing changes
 * on an error.
 */
static json_t *
cmd_set_fences(struct daemon *d, json_t *args, const char **status,
    char *err, size_t errlen)
{
	json_t			*gj = json_object_get(args, "geojson");
	struct config_errors	 errs, warns;
	struct fence_set	*set;
	char			*path, *tmp, *text, why[256];
	size_t			 i, off, nfeat;

	*status = "error";
	if (!json_is_object(gj) || !json_is_string(json_object_get(gj,
	    "type")) || strcmp(json_string_value(json_object_get(gj, "type")),
	    "FeatureCollection") != 0) {
		snprintf(err, errlen, "args.geojson: a GeoJSON "
		    "FeatureCollection expected");
		return NULL;
	}
	nfeat = json_array_size(json_object_get(gj, "features"));
	if ((text = json_dumps(gj, JSON_COMPACT | JSON_REAL_PRECISION(17))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	path = platformset_path(d->conf, PLATFORMSET_FENCES);
	tmp = xasprintf("%s.check", path);
	if (platformset_save(tmp, text, strlen(text), why, sizeof(why)) ==
	    -1) {
		snprintf(err, errlen, "cannot keep the fences: %s", why);
		goto out;
	}
	set = platformset_fences(d->conf, tmp, &errs, &warns);
	for (i = 0; i < warns.n; i++)
		log_warnx("main: set_fences: %s", warns.lines[i]);
	if (set == NULL) {
		off = (size_t)snprintf(err, errlen, "fences refused:");
		for (i = 0; i < errs.n && i < 3 && off < errlen; i++)
			off += (size_t)snprintf(err + off, errlen - off, " %s%s",
			    errs.lines[i], i + 1 < errs.n ? ";" : "");
		log_warnx("main: set_fences refused: %s", err);
		unlink(tmp);
	} else if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot keep the fences: %s: %s", path,
		    strerror(errno));
		fence_set_free(set);
		unlink(tmp);
	} else {
		use_fences(d, set);
		*status = "ok";
		log_info("main: set_fences: %zu features from the platform, "
		    "%zu fences in force", nfeat, fence_set_count(set));
	}
	config_errors_free(&errs);
	config_errors_free(&warns);
out:
	free(text);
	free(tmp);
	free(path);
	if (strcmp(*status, "ok") != 0)
		return NULL;
	return json_pack("{s:I, s:I}", "features", (json_int_t)nfeat,
	    "fences", (json_int_t)fence_set_count(d->fences));
}

/* set_calendar: holidays and adjusted workdays added to the calendar. */
static json_t *
cmd_set_calendar(struct daemon *d, json_t *args, const char **status,
    char *err, size_t errlen)
{
	struct calendar	*cal;
	size_t		 n[3];
	char		*path, *text, why[256];

	*status = "error";
	if ((cal = platformset_calendar(d->conf, args, n, why, sizeof(why))) ==
	    NULL) {
		snprintf(err, errlen, "calendar refused: %s", why);
		return NULL;
	}
	text = json_dumps(args, JSON_COMPACT);
	path = platformset_path(d->conf, PLATFORMSET_CALENDAR);
	if (text == NULL || platformset_save(path, text, strlen(text), why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "cannot keep the calendar: %s",
		    text == NULL ? "out of memory" : why);
		calendar_free(cal);
		free(text);
		free(path);
		return NULL;
	}
	free(text);
	free(path);
	rules_set_calendar(d->rules, cal);
	calendar_free(d->cal);
	d->cal = cal;
	*status = "ok";
	log_info("main: set_calendar: %zu holidays, %zu adjusted workdays "
	    "from the platform (%zu dates left to the configuration)", n[0],
	    n[1], n[2]);
	return json_pack("{s:I, s:I, s:I}", "holidays", (json_int_t)n[0],
	    "extra_workdays", (json_int_t)n[1], "already_configured",
	    (json_int_t)n[2]);
}

static json_t	*status_json(struct daemon *);

static json_t *
on_platform_command(const char *type, json_t *args, const char **status,
    char *err, size_t errlen, void *arg)
{
	struct daemon	*d = arg;
	json_t		*r;

	if (strcmp(type, "locate") == 0) {
		*status = "ok";
		return cmd_locate(d);
	}
	if (strcmp(type, "status") == 0) {
		*status = "ok";
		r = status_json(d);
		json_object_del(r, "ok");
		return r;
	}
	if (strcmp(type, "set_dispatch_orders") == 0)
		return cmd_set_orders(d, args, status, err, errlen);
	if (strcmp(type, "set_fences") == 0)
		return cmd_set_fences(d, args, status, err, errlen);
	if (strcmp(type, "set_calendar") == 0)
		return cmd_set_calendar(d, args, status, err, errlen);
	*status = "unsupported";
	snprintf(err, errlen, "unsupported command type \"%s\"", type);
	return NULL;
}

/* Start (or restart) uploads when the configuration has a platform. */
static int
start_sync(struct daemon *d, double start_delay_max_s)
{
	struct sync_opts	o;
	struct sync_hooks	h = { on_platform_command, sync_now, d };

	sync_free(d->sync);
	d->sync = NULL;
	if (!d->conf->platform.enabled)
		return 0;
	sync_opts_from_config(d->conf, &o);
	if (start_delay_max_s >= 0)
		o.start_delay_max_s = start_delay_max_s;
	if ((d->sync = sync_new(d->loop, d->store, d->key, &o, &h)) == NULL)
		return -1;
	return 0;
}

static int	reload(struct daemon *, char *, size_t);

/* An optional time member of an export request: 0, or -1 (why). */
static int
export_time(struct daemon *d, const json_t *req, const char *key,
    int64_t *t, char *why, size_t whylen)
{
	const json_t	*v = json_object_get(req, key);
	char		 err[128];

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || timefmt_parse(json_string_value(v),
	    d->conf->device.timezone, t, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "%s: %s", key, json_is_string(v) ? err :
		    "not a string");
		return -1;
	}
	return 0;
}

/*
 * "export" {"from", "to" (T strings or null), "unsynced"} with the
 * output file passed along (SCM_RIGHTS): record the export (an
 * inspection_export event), sign the chains' heads, write the bundle
 * (docs/bundle.md) to the client's file.  Runs in the loop: a day of
 * positions is a few seconds on a slow card, logged.
 */
static json_t *
export_json(struct daemon *d, const json_t *req, const struct ctl_peer *peer)
{
	struct bundle_opts	 bo;
	struct bundle_summary	 sum;
	struct passwd		*pw;
	json_t			*details, *streams;
	uint64_t		 t0;
	char			 why[256];
	FILE			*fp;
	int			 fd, fl, i;

	memset(&bo, 0, sizeof(bo));
	bo.from_utc_ms = INT64_MIN;
	bo.to_utc_ms = INT64_MAX;
	if (export_time(d, req, "from", &bo.from_utc_ms, why,
	    sizeof(why)) == -1 || export_time(d, req, "to", &bo.to_utc_ms,
	    why, sizeof(why)) == -1)
		return json_pack("{s:b, s:s}", "ok", 0, "error", why);
	bo.unsynced = json_is_true(json_object_get(req, "unsynced"));
	if (peer->fd == -1 || (fl = fcntl(peer->fd, F_GETFL)) == -1 ||
	    (fl & O_ACCMODE) == O_RDONLY)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "export "
		    "writes to a file passed with the request (fleetgwctl "
		    "export -o FILE)");
	if ((fd = dup(peer->fd)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "cannot use the file passed");
	}
	pw = getpwuid(peer->uid);
	bo.via = "daemon";
	bo.exported_utc_ms = gnss_now_ms(d) != INT64_MIN ? gnss_now_ms(d) :
	    util_real_ms();
	bo.uid = (long)peer->uid;
	bo.user = pw != NULL ? pw->pw_name : "";
	bo.device_id = d->conf->device.id;
	bo.plate = d->conf->device.plate;
	bo.unit = d->conf->device.unit;
	bo.vclass = config_class_name(d->conf->device.class);
	bo.tz = d->conf->device.timezone;
	bo.key = d->key;
	/* The audit trail first, so that the bundle's checkpoint covers it. */
	details = json_pack("{s:s, s:I, s:I, s:s}", "via", "daemon", "uid",
	    (json_int_t)peer->uid, "pid", (json_int_t)peer->pid, "user",
	    bo.user);
	json_object_set(details, "from", json_object_get(req, "from") ?
	    json_object_get(req, "from") : json_null());
	json_object_set(details, "to", json_object_get(req, "to") ?
	    json_object_get(req, "to") : json_null());
	json_object_set_new(details, "unsynced", json_boolean(bo.unsynced));
	rules_raise(d->rules, RULES_INSPECTION_EXPORT, bo.exported_utc_ms,
	    details);
	rules_sync(d);
	if (store_commit(d->store) == -1 ||
	    make_checkpoint(d, "export", true) == -1)
		log_warnx("main: export: the export could not be recorded "
		    "or signed first; writing the bundle anyway");
	t0 = util_mono_ms();
	if (bundle_write(d->store, &bo, fp, &sum, why, sizeof(why)) == -1) {
		fclose(fp);
		log_warnx("main: export for uid %ld failed: %s",
		    (long)peer->uid, why);
		return json_pack("{s:b, s:s}", "ok", 0, "error", why);
	}
	if (fclose(fp) == EOF) {
		snprintf(why, sizeof(why), "writing the file: %s",
		    strerror(errno));
		return json_pack("{s:b, s:s}", "ok", 0, "error", why);
	}
	log_info("main: exported events %" PRIu64 "..%" PRIu64 ", positions %"
	    PRIu64 "..%" PRIu64 " for uid %ld (%s) in %" PRIu64 " ms",
	    sum.first[STORE_STREAM_EVENTS], sum.last[STORE_STREAM_EVENTS],
	    sum.first[STORE_STREAM_POSITIONS],
	    sum.last[STORE_STREAM_POSITIONS], (long)peer->uid, bo.user,
	    util_mono_ms() - t0);
	streams = json_object();
	for (i = 0; i < STORE_STREAMS; i++)
		json_object_set_new(streams, store_stream_name(
		    (enum store_stream)i), json_pack("{s:I, s:I, s:I, s:b}",
		    "first", (json_int_t)sum.first[i], "last",
		    (json_int_t)sum.last[i], "records",
		    (json_int_t)sum.records[i], "covered", sum.covered[i]));
	return json_pack("{s:b, s:o, s:I, s:I}", "ok", 1, "streams", streams,
	    "checkpoints", (json_int_t)sum.checkpoints, "lines",
	    (json_int_t)sum.lines);
}

/* "reload" (admin): what SIGHUP does, with the outcome in the reply. */
static json_t *
reload_json(struct daemon *d)
{
	char	why[512];

	if (reload(d, why, sizeof(why)) == -1)
		return json_pack("{s:b, s:s}", "ok", 0, "error", why);
	return json_pack("{s:b, s:s, s:s}", "ok", 1, "message",
	    "configuration reloaded", "file", d->conf->file);
}

static json_t *
on_ctl_request(const json_t *req, const struct ctl_peer *peer, void *arg)
{
	struct daemon	*d = arg;
	const char	*cmd;
	char		 why[256];

	cmd = json_string_value(json_object_get(req, "cmd"));
	if (cmd == NULL)
		return json_pack("{s:b, s:s}", "ok", 0, "error",
		    "request has no \"cmd\" string");
	/*
	 * Access first, for every command: its class is in ctlauth.c's
	 * table, and a command missing there is for administrators only.
	 */
	if (!ctlauth_permit(cmd, peer, d->conf->ctl.admin_group,
	    d->conf->ctl.inspect_group, why, sizeof(why)))
		return json_pack("{s:b, s:s}", "ok", 0, "error", why);
	if (strcmp(cmd, "status") == 0)
		return status_json(d);
	if (strcmp(cmd, "fences") == 0)
		return fences_json(d, req);
	if (strcmp(cmd, "fences_at") == 0)
		return fences_at_json(d, req);
	if (strcmp(cmd, "check") == 0)
		return check_json(d, peer);
	if (strcmp(cmd, "export") == 0)
		return export_json(d, req, peer);
	if (strcmp(cmd, "dispatch_add") == 0)
		return dispatch_add_json(d, req);
	if (strcmp(cmd, "dispatch_remove") == 0)
		return dispatch_remove_json(d, req);
	if (strcmp(cmd, "reload") == 0)
		return reload_json(d);
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error",
	    "unknown command", "cmd", cmd);
}

/*
 * Reload the configuration file (SIGHUP, ctl "reload").  0, or -1 with
 * the reason in why (details in the log) when the new file is refused
 * and the running configuration kept.
 */
static int
reload(struct daemon *d, char *why, size_t whylen)
{
	struct config_errors	 errs = { 0, NULL };
	struct config		*nc;
	struct store_opts	 so;
	struct gnss_opts	 go;
	struct obd_opts		 oo;
	struct ctl		*nctl;
	struct fence_set	*nset;
	struct calendar		*ncal;
	struct sign_key		*nkey = NULL;

	notify_reloading();
	log_info("main: reloading %s", d->conf->file);
	if ((nc = config_load(d->conf->file, &errs)) == NULL) {
		print_errors(&errs, 1);
		if (errs.n > 1)
			snprintf(why, whylen, "reload failed, keeping the "
			    "running configuration: %s (and %zu more errors, "
			    "see the daemon log)", errs.lines[0], errs.n - 1);
		else
			snprintf(why, whylen, "reload failed, keeping the "
			    "running configuration: %s", errs.n > 0 ?
			    errs.lines[0] : "see the daemon log");
		config_errors_free(&errs);
		log_warnx("main: reload failed, keeping the running "
		    "configuration");
		notify_ready();
		return -1;
	}
	if ((nset = load_fences(nc, 1)) == NULL) {
		config_free(nc);
		log_warnx("main: reload failed (fences), keeping the running "
		    "configuration and fences");
		snprintf(why, whylen, "reload failed (the fences, see the "
		    "daemon log), keeping the running configuration");
		notify_ready();
		return -1;
	}
	if ((ncal = build_calendar(nc)) == NULL) {
		fence_set_free(nset);
		config_free(nc);
		log_warnx("main: reload failed (calendar), keeping the running "
		    "configuration");
		snprintf(why, whylen, "reload failed (the calendar, see the "
		    "daemon log), keeping the running configuration");
		notify_ready();
		return -1;
	}
	if (nc->signing.enabled && (nkey = load_key(nc, 1)) == NULL) {
		calendar_free(ncal);
		fence_set_free(nset);
		config_free(nc);
		log_warnx("main: reload failed (signing key), keeping the "
		    "running configuration");
		snprintf(why, whylen, "reload failed (the signing key, see the "
		    "daemon log), keeping the running configuration");
		notify_ready();
		return -1;
	}
	rules_set_fences(d->rules, nset);
	fence_set_free(d->fences);
	d->fences = nset;
	rules_set_calendar(d->rules, ncal);
	calendar_free(d->cal);
	d->cal = ncal;
	rules_set_config(d->rules, &nc->rules);
	log_fences(d->fences);
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
			/* Safe inside a ctl "reload": freed after the reply. */
			ctl_free(d->ctl);
			d->ctl = nctl;
		}
	}
	(void)ctl_set_group(d->ctl, nc->ctl.inspect_group);
	opts_from_config(nc, &so, &go);
	store_set_limits(d->store, &so);
	gnss_reconfigure(d->gnss, &go);
	obd_opts_from_config(nc, &oo);
	obd_reconfigure(d->obd, &oo);
	trip_config_from_config(nc, &d->trip.cfg);	/* plain data */
	config_free(d->conf);
	d->conf = nc;
	/* Transfers in flight are dropped (nothing marked) and redone. */
	sync_free(d->sync);
	d->sync = NULL;
	sign_key_free(d->key);
	d->key = nkey;
	if (start_sync(d, 0) == -1)
		log_warnx("main: uploads to the platform stay stopped until "
		    "the configuration is fixed");
	log_info("main: configuration reloaded");
	schedule_commit(d);
	notify_ready();
	return 0;
}

static void
on_signal(int signo, void *arg)
{
	struct daemon	*d = arg;
	char		 why[512];	/* logged already */

	switch (signo) {
	case SIGHUP:
		(void)reload(d, why, sizeof(why));
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
	struct obd_opts		 oo;
	struct trip_config	 tc;
	struct trip_summary	 open_trip;
	const char		*conffile = DEFAULT_CONFIG;
	int			 ch, check = 0, foreground = 0, verbose = 0;
	int			 rc = 0;
	size_t			 index, total;

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
	if ((d.fences = load_fences(d.conf, !check && !foreground)) == NULL) {
		if (!check && !foreground)
			log_warnx("main: %s: invalid fences", conffile);
		else if (!check)
			fprintf(stderr, "fleetgwd: %s: invalid fences\n",
			    conffile);
		config_free(d.conf);
		return 1;
	}
	if (d.conf->signing.enabled &&
	    (d.key = load_key(d.conf, !check && !foreground)) == NULL) {
		if (!check && !foreground)
			log_warnx("main: %s: unusable signing key", conffile);
		fence_set_free(d.fences);
		config_free(d.conf);
		return 1;
	}
	if (check) {
		sign_key_free(d.key);
		if (verbose) {
			config_dump(d.conf, stdout);
			total = fence_set_memory(d.fences, &index);
			printf("# %zu fences, index %zu KiB, %zu KiB in all\n",
			    fence_set_count(d.fences), (index + 1023) / 1024,
			    (total + 1023) / 1024);
		}
		printf("configuration OK\n");
		fence_set_free(d.fences);
		config_free(d.conf);
		return 0;
	}

	d.loop = ev_new();
	d.start_mono_ms = ev_now_ms(d.loop);
	ev_signal_set(d.loop, on_signal, &d);
	log_info("main: fleetgwd %s starting, device %s", FLEETGW_VERSION,
	    d.conf->device.id);
	log_fences(d.fences);

	opts_from_config(d.conf, &so, &go);
	if ((d.store = store_open(&so)) == NULL) {
		log_warnx("main: cannot open the store, exiting");
		rc = 1;
		goto out;
	}
	if ((d.cal = build_calendar(d.conf)) == NULL) {
		rc = 1;
		goto out;
	}
	d.rules = rules_new(&d.conf->rules, rules_localtime, &d,
	    on_rule_event, &d);
	rules_set_calendar(d.rules, d.cal);
	rules_set_fences(d.rules, d.fences);
	load_orders(&d);
	restore_rules(&d);
	trip_config_from_config(d.conf, &tc);
	trip_init(&d.trip, &tc, on_trip, &d);
	if (store_unclean_previous(d.store)) {
		d.power_loss = 1;
		d.power_loss_last_ms = store_last_record_utc_ms(d.store);
	}
	if (store_trip_open_get(d.store, &open_trip) == 1) {
		log_warnx("main: trip %" PRIu64 " was left open by an unclean "
		    "stop; closing it as power_loss", open_trip.id);
		d.power_loss_in_trip = 1;
		(void)trip_recover(&d.trip, &open_trip, INT64_MAX);
		rules_sync(&d);
	}
	if ((d.ctl = ctl_new(d.loop, d.conf->ctl.socket, on_ctl_request,
	    &d)) == NULL) {
		log_warnx("main: cannot open the control socket, exiting");
		rc = 1;
		goto out;
	}
	(void)ctl_set_group(d.ctl, d.conf->ctl.inspect_group);
	if (start_sync(&d, -1) == -1) {
		log_warnx("main: cannot start uploads to the platform, "
		    "exiting");
		rc = 1;
		goto out;
	}
	d.gnss = gnss_new(d.loop, &go, on_fix, &d);
	obd_opts_from_config(d.conf, &oo);
	d.obd = obd_new(d.loop, &oo, on_obd, &d);
	ev_prepare_add(d.loop, on_prepare, &d);

	ev_timer_init(&d.commit_timer, on_commit_timer, &d);
	ev_timer_init(&d.status_timer, on_status_timer, &d);
	ev_timer_init(&d.retention_timer, on_retention_timer, &d);
	ev_timer_init(&d.watchdog_timer, on_watchdog_timer, &d);
	ev_timer_init(&d.rules_timer, on_rules_timer, &d);
	ev_timer_set(d.loop, &d.rules_timer, RULES_TICK_MS);
	d.retention_pending = 1;
	run_retention(&d);	/* the size cap now, ages once time is trusted */
	ev_timer_set(d.loop, &d.retention_timer, RETENTION_PERIOD_MS);
	ev_timer_init(&d.checkpoint_timer, on_checkpoint_timer, &d);
	if (d.key != NULL) {
		/* Records the last run left unsigned (a power cut) first. */
		if (checkpoint_last(d.store, d.cp_last) == 0)
			(void)make_checkpoint(&d, "start", false);
		ev_timer_set(d.loop, &d.checkpoint_timer,
		    (uint64_t)d.conf->signing.checkpoint_interval_s * 1000);
	} else
		log_info("main: no signing key: records are chained but no "
		    "checkpoint is signed (exports cannot be verified)");
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
	if (d.store != NULL && d.last_fix_mono_ms != 0) {
		trip_shutdown(&d.trip, gnss_now_ms(&d));
		rules_sync(&d);
	}
	sync_free(d.sync);
	obd_free(d.obd);
	gnss_free(d.gnss);
	ctl_free(d.ctl);
	if (d.store != NULL) {
		if (store_commit(d.store) == -1)
			rc = 1;
		(void)make_checkpoint(&d, "stop", false);
		store_close(d.store);
	}
	log_info("main: stopped");
	sign_key_free(d.key);
	rules_free(d.rules);
	calendar_free(d.cal);
	fence_set_free(d.fences);
	config_free(d.conf);
	ev_free(d.loop);
	return rc;
}
