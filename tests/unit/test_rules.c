/* SPDX-License-Identifier: MIT */
/*
 * test_rules.c - the usage rules engine (daemon/rules.c) on synthesized
 * drives: 1 Hz fixes (and OBD samples) on a local plane around the
 * county seat, the 2026 work calendar of test_calendar.c (国庆节
 * 2026-10-01..07 off, 2026-10-10 Saturday worked), a small fence set
 * (county, office, lot, forbidden places, a school zone, a dispatch
 * corridor) and Asia/Shanghai as UTC+8 without DST.
 *
 * Every event is copied (details deep-copied) and checked as it comes:
 * ids from 1, never reused (OPEN and INSTANT ids strictly increase, across
 * restarts too), a CLOSE matches one earlier OPEN of the same type and
 * start, the severity is the rule's.  The tests then assert the exact
 * list: types, phases, start and end in ms, fence ids, key details.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "calendar.h"
#include "fence.h"
#include "geo.h"
#include "record.h"
#include "rules.h"

#define LAT0		30.6598		/* Tianfu Square */
#define LON0		104.0657
#define M_PER_DEG	(GEO_EARTH_RADIUS_M * M_PI / 180.0)
#define SEC		INT64_C(1000)
#define MINUTE		(60 * SEC)
#define HOUR		(60 * MINUTE)
#define CST_S		(8 * 3600)	/* Asia/Shanghai, no DST */
#define MAXEV		256
#define MAXTRANS	32
#define HM(h, m)	((h) * 60 + (m))
#define HMS(h, m, s)	((h) * 3600 + (m) * 60 + (s))
#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define D0		2026, 3, 3	/* a Tuesday */
#define D1		2026, 3, 4

/* One reported event, copied. */
struct evc {
	struct rules_event	 e;	/* e.details NULL */
	json_t			*d;	/* deep copy of the details */
	char			*s;	/* json_dumps of the details */
	int64_t			 at;	/* sim time of the input that
					   reported it */
};

static struct {
	struct rules_config	 cfg;
	struct rules		*r;
	struct calendar		*cal;
	struct fence_set	*fs;
	bool			 lt_fail;	/* localtime says -1 */

	struct evc		 ev[MAXEV];
	size_t			 nev;
	uint64_t		 max_id;	/* highest OPEN/INSTANT id */

	/* the vehicle, on a local plane: x east, y north, metres */
	int64_t			 t;
	double			 x, y;
	uint64_t		 trip;		/* 0: parked */
	uint64_t		 ntrips;
	bool			 gnss;		/* a fix every step */
	bool			 obd;		/* an OBD sample every step */
	bool			 engine;
	double			 fuel_pct;
	int			 mil;

	/* transitions of one watched fence at the fixes fed */
	long			 watch;		/* fence index, -1 none */
	bool			 watch_known, watch_in;
	int64_t			 trans[MAXTRANS];
	bool			 trans_in[MAXTRANS];
	size_t			 ntrans;
} h;

static char	 why[256];
static char	 dumpbuf[32768];

/* --------------------------------------------------------------- time */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_civil(int y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* UTC ms of local (UTC+8) y-m-d plus sec seconds (may exceed a day). */
static int64_t
L(int y, int m, int d, int64_t sec)
{
	return (days_civil(y, m, d) * 86400 + sec - CST_S) * SEC;
}

static int
cst(int64_t t, struct calendar_date *d, int *sod, void *arg)
{
	struct tm	tm;
	time_t		s;

	(void)arg;
	if (h.lt_fail)
		return -1;
	s = (time_t)((t - ((t % SEC) + SEC) % SEC) / SEC) + CST_S;
	if (gmtime_r(&s, &tm) == NULL)
		return -1;
	d->year = tm.tm_year + 1900;
	d->month = tm.tm_mon + 1;
	d->day = tm.tm_mday;
	*sod = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

/* "MM-DD hh:mm:ss.mmm" local, for messages. */
static const char *
lts(int64_t t, char *buf, size_t len)
{
	struct calendar_date	d;
	int			s;

	if (t == 0 || cst(t, &d, &s, NULL) != 0) {
		snprintf(buf, len, "%lld", (long long)t);
		return buf;
	}
	snprintf(buf, len, "%02d-%02d %02d:%02d:%02d.%03d", d.month, d.day,
	    s / 3600, s / 60 % 60, s % 60, (int)(((t % SEC) + SEC) % SEC));
	return buf;
}

/* ------------------------------------------------------------ events */

static const char *
phase_name(enum rules_phase p)
{
	return p == RULES_EV_OPEN ? "OPEN" : p == RULES_EV_CLOSE ? "CLOSE" :
	    "INSTANT";
}

static const char *
dump(void)
{
	char	a[32], b[32], c[32];
	size_t	i, n = 0;
	int	k;

	dumpbuf[0] = '\0';
	for (i = 0; i < h.nev && n < sizeof(dumpbuf); i++) {
		k = snprintf(dumpbuf + n, sizeof(dumpbuf) - n,
		    "\n  #%llu %s %s [%s, %s] at %s trip %llu fence '%s' %s",
		    (unsigned long long)h.ev[i].e.id,
		    phase_name(h.ev[i].e.phase),
		    rules_type_name(h.ev[i].e.type),
		    lts(h.ev[i].e.start_utc_ms, a, sizeof(a)),
		    lts(h.ev[i].e.end_utc_ms, b, sizeof(b)),
		    lts(h.ev[i].at, c, sizeof(c)),
		    (unsigned long long)h.ev[i].e.trip_id, h.ev[i].e.fence_id,
		    h.ev[i].s);
		if (k > 0)
			n += (size_t)k;
	}
	if (h.nev == 0)
		snprintf(dumpbuf, sizeof(dumpbuf), " (no events)");
	return dumpbuf;
}

static void
on_event(const struct rules_event *ev, void *arg)
{
	struct evc	*c;
	size_t		 i, opens = 0, closes = 0;

	(void)arg;
	cr_assert_lt(h.nev, MAXEV, "too many events:%s", dump());
	cr_assert_geq(ev->id, 1);
	cr_assert((unsigned)ev->type < RULES_TYPE_COUNT);
	/* Only the daemon's own events may carry another severity. */
	if (ev->type < RULES_RULE_COUNT)
		cr_assert_eq(ev->severity, rules_type_severity(ev->type));
	cr_assert(json_is_object(ev->details));
	switch (ev->phase) {
	case RULES_EV_OPEN:
	case RULES_EV_INSTANT:
		/* A fresh id from the counter: never one seen before. */
		cr_assert_gt(ev->id, h.max_id, "id %llu reused:%s",
		    (unsigned long long)ev->id, dump());
		h.max_id = ev->id;
		if (ev->phase == RULES_EV_OPEN)
			cr_assert_eq(ev->end_utc_ms, 0);
		else
			cr_assert_geq(ev->end_utc_ms, ev->start_utc_ms);
		break;
	case RULES_EV_CLOSE:
		for (i = 0; i < h.nev; i++) {
			if (h.ev[i].e.id != ev->id)
				continue;
			if (h.ev[i].e.phase == RULES_EV_OPEN) {
				opens++;
				cr_assert_eq(h.ev[i].e.type, ev->type);
				cr_assert_eq(h.ev[i].e.start_utc_ms,
				    ev->start_utc_ms);
				cr_assert_str_eq(h.ev[i].e.fence_id,
				    ev->fence_id);
			} else if (h.ev[i].e.phase == RULES_EV_CLOSE)
				closes++;
		}
		cr_assert_eq(opens, 1, "CLOSE #%llu without its OPEN:%s",
		    (unsigned long long)ev->id, dump());
		cr_assert_eq(closes, 0, "CLOSE #%llu twice:%s",
		    (unsigned long long)ev->id, dump());
		cr_assert_geq(ev->end_utc_ms, ev->start_utc_ms);
		break;
	default:
		cr_assert_fail("bad phase %d", (int)ev->phase);
	}
	c = &h.ev[h.nev++];
	c->e = *ev;
	c->e.details = NULL;
	c->d = json_deep_copy(ev->details);
	c->s = json_dumps(ev->details, JSON_SORT_KEYS | JSON_COMPACT);
	c->at = h.t;
}

static void
clear_events(void)
{
	size_t	i;

	for (i = 0; i < h.nev; i++) {
		json_decref(h.ev[i].d);
		free(h.ev[i].s);
	}
	h.nev = 0;
}

static size_t
count(enum rules_type type, int phase)
{
	size_t	i, n = 0;

	for (i = 0; i < h.nev; i++)
		if (h.ev[i].e.type == type &&
		    (phase < 0 || (int)h.ev[i].e.phase == phase))
			n++;
	return n;
}

/* The nth (from 0) event of type in phase; fails the test when absent. */
static const struct evc *
get(enum rules_type type, enum rules_phase phase, size_t nth)
{
	size_t	i;

	for (i = 0; i < h.nev; i++)
		if (h.ev[i].e.type == type && h.ev[i].e.phase == phase &&
		    nth-- == 0)
			return &h.ev[i];
	cr_assert_fail("no %s %s:%s", phase_name(phase), rules_type_name(type),
	    dump());
	return NULL;
}

static void
expect_total(size_t n)
{
	cr_assert_eq(h.nev, n, "want %zu events, got:%s", n, dump());
}

static void
expect_none(enum rules_type type)
{
	cr_assert_eq(count(type, -1), 0, "unexpected %s:%s",
	    rules_type_name(type), dump());
}

/*
 * Episode nth of type: its OPEN has start, its CLOSE (end >= 0 expected)
 * the same id, start and end.  end -1: still open.  Returns the last
 * reported phase.
 */
static const struct evc *
expect_ep(enum rules_type type, size_t nth, int64_t start, int64_t end)
{
	const struct evc	*o, *c;
	char			 a[32], b[32];
	size_t			 i;

	o = get(type, RULES_EV_OPEN, nth);
	cr_assert_eq(o->e.start_utc_ms, start, "%s #%zu start %s, want %s:%s",
	    rules_type_name(type), nth, lts(o->e.start_utc_ms, a, sizeof(a)),
	    lts(start, b, sizeof(b)), dump());
	for (i = 0, c = NULL; i < h.nev; i++)
		if (h.ev[i].e.phase == RULES_EV_CLOSE &&
		    h.ev[i].e.id == o->e.id)
			c = &h.ev[i];
	if (end < 0) {
		cr_assert_null(c, "%s #%zu closed:%s", rules_type_name(type),
		    nth, dump());
		return o;
	}
	cr_assert_not_null(c, "%s #%zu not closed:%s", rules_type_name(type),
	    nth, dump());
	cr_assert_eq(c->e.end_utc_ms, end, "%s #%zu end %s, want %s:%s",
	    rules_type_name(type), nth, lts(c->e.end_utc_ms, a, sizeof(a)),
	    lts(end, b, sizeof(b)), dump());
	cr_assert_eq(c->e.trip_id, o->e.trip_id);
	return c;
}

static const struct evc *
expect_instant(enum rules_type type, size_t nth, int64_t start, int64_t end)
{
	const struct evc	*e = get(type, RULES_EV_INSTANT, nth);
	char			 a[32], b[32], c[32], d[32];

	cr_assert(e->e.start_utc_ms == start && e->e.end_utc_ms == end,
	    "%s [%s, %s], want [%s, %s]:%s", rules_type_name(type),
	    lts(e->e.start_utc_ms, a, sizeof(a)),
	    lts(e->e.end_utc_ms, b, sizeof(b)), lts(start, c, sizeof(c)),
	    lts(end, d, sizeof(d)), dump());
	return e;
}

static double
dnum(const struct evc *e, const char *k)
{
	const json_t	*v = json_object_get(e->d, k);

	cr_assert(json_is_number(v), "details %s: no number %s", e->s, k);
	return json_number_value(v);
}

static const char *
dstr(const struct evc *e, const char *k)
{
	const char	*s = json_string_value(json_object_get(e->d, k));

	cr_assert_not_null(s, "details %s: no string %s", e->s, k);
	return s;
}

/* ------------------------------------------------------------ fences */

static void
xy_ll(double x, double y, double *lat, double *lon)
{
	*lat = LAT0 + y / M_PER_DEG;
	*lon = LON0 + x / (M_PER_DEG * cos(LAT0 * M_PI / 180.0));
}

static void
fbegin(struct fence_builder *b, const char *id, const char *name,
    enum fence_kind kind, const char *cat, double speed, int dwell)
{
	struct fence_spec	sp;

	memset(&sp, 0, sizeof(sp));
	sp.id = id;
	sp.name = name;
	sp.kind = kind;
	sp.category = cat;
	sp.crs = GEO_CRS_WGS84;
	sp.speed_limit_kmh = speed;
	sp.dwell_s = dwell;
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0, "%s",
	    why);
}

static void
fcircle(struct fence_builder *b, double x, double y, double r)
{
	double	lat, lon;

	xy_ll(x, y, &lat, &lon);
	cr_assert_eq(fence_builder_circle(b, lon, lat, r, why, sizeof(why)), 0,
	    "%s", why);
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
}

/*
 * The county seat (metres from Tianfu Square, x east, y north):
 *   county	region		rectangle x, y in [-8000, 8000]
 *   office	office		circle (0, 0) r 150
 *   lot	parking		circle (0, 2000) r 100
 *   ktv	forbidden	circle (3000, 0) r 100, entertainment (180 s)
 *   golf	forbidden	circle (3000, 2000) r 100, own dwell 120 s
 *   scenic	forbidden	circle (3000, -2000) r 100, the default 300 s
 *   school	destination	circle (-3000, 0) r 300, 40 km/h
 *   hospital	destination	circle (0, -3000) r 100
 *   route	destination	corridor (0, 0) - (0, 5000), 200 m wide
 */
static struct fence_set *
county(void)
{
	struct fence_builder	*b = fence_builder_new();
	double			 w, s, e, n, xy[4];

	fbegin(b, "county", "示范县", FENCE_REGION, NULL, 0, -1);
	xy_ll(-8000, -8000, &s, &w);
	xy_ll(8000, 8000, &n, &e);
	cr_assert_eq(fence_builder_rect(b, w, s, e, n, why, sizeof(why)), 0,
	    "%s", why);
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
	fbegin(b, "office", "县委大院", FENCE_OFFICE, NULL, 0, -1);
	fcircle(b, 0, 0, 150);
	fbegin(b, "lot", "定点停车场", FENCE_PARKING, NULL, 0, -1);
	fcircle(b, 0, 2000, 100);
	fbegin(b, "ktv", "KTV", FENCE_FORBIDDEN, "entertainment", 0, -1);
	fcircle(b, 3000, 0, 100);
	fbegin(b, "golf", "高尔夫球场", FENCE_FORBIDDEN, "golf", 0, 120);
	fcircle(b, 3000, 2000, 100);
	fbegin(b, "scenic", "景区", FENCE_FORBIDDEN, "scenic", 0, -1);
	fcircle(b, 3000, -2000, 100);
	fbegin(b, "school", "学校", FENCE_DESTINATION, NULL, 40, -1);
	fcircle(b, -3000, 0, 300);
	fbegin(b, "hospital", "人民医院", FENCE_DESTINATION, NULL, 0, -1);
	fcircle(b, 0, -3000, 100);
	fbegin(b, "route", "派车路线", FENCE_DESTINATION, NULL, 0, -1);
	xy_ll(0, 0, &xy[1], &xy[0]);
	xy_ll(0, 5000, &xy[3], &xy[2]);
	cr_assert_eq(fence_builder_corridor(b, xy, 2, 200, why, sizeof(why)),
	    0, "%s", why);
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
	return fence_builder_finish(b);
}

static const struct calendar_entry entries_2026[] = {
	{ { 2026, 9, 20 }, false, "国庆节调休上班" },
	{ { 2026, 9, 25 }, true, "中秋节" },
	{ { 2026, 9, 26 }, true, "中秋节" },
	{ { 2026, 9, 27 }, true, "中秋节" },
	{ { 2026, 10, 1 }, true, "国庆节" },
	{ { 2026, 10, 2 }, true, "国庆节" },
	{ { 2026, 10, 3 }, true, "国庆节" },
	{ { 2026, 10, 4 }, true, "国庆节" },
	{ { 2026, 10, 5 }, true, "国庆节" },
	{ { 2026, 10, 6 }, true, "国庆节" },
	{ { 2026, 10, 7 }, true, "国庆节" },
	{ { 2026, 10, 10 }, false, "国庆节调休上班" },
};

static struct calendar *
office_calendar(void)
{
	struct calendar_spec	 spec;
	struct calendar		*cal;

	memset(&spec, 0, sizeof(spec));
	spec.workdays = 0x1f;	/* Monday .. Friday */
	spec.periods[0] = (struct calendar_period){ HM(8, 30), HM(12, 0) };
	spec.periods[1] = (struct calendar_period){ HM(13, 30), HM(17, 30) };
	spec.nperiods = 2;
	spec.entries = entries_2026;
	spec.nentries = NELEMS(entries_2026);
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	return cal;
}

/* ------------------------------------------------------------ engine */

/* A fresh engine with h.cfg; the calendar and the fence set or NULL. */
static void
engine(bool with_cal, bool with_fences)
{
	rules_free(h.r);
	h.r = rules_new(&h.cfg, cst, NULL, on_event, NULL);
	cr_assert_not_null(h.r);
	rules_set_calendar(h.r, with_cal ? h.cal : NULL);
	rules_set_fences(h.r, with_fences ? h.fs : NULL);
}

static void
setup(void)
{
	memset(&h, 0, sizeof(h));
	rules_config_default(&h.cfg);
	snprintf(h.cfg.forbidden_place.categories[0].name,
	    sizeof(h.cfg.forbidden_place.categories[0].name), "entertainment");
	h.cfg.forbidden_place.categories[0].dwell_s = 180;
	snprintf(h.cfg.forbidden_place.categories[1].name,
	    sizeof(h.cfg.forbidden_place.categories[1].name), "golf");
	h.cfg.forbidden_place.categories[1].dwell_s = 999;	/* fence wins */
	h.cfg.forbidden_place.ncategories = 2;
	h.cal = office_calendar();
	h.fs = county();
	h.gnss = true;
	h.fuel_pct = NAN;
	h.mil = -1;
	h.watch = -1;
	h.x = -1000;
	h.y = -1000;
	engine(true, true);
}

static void
teardown(void)
{
	clear_events();
	rules_free(h.r);
	fence_set_free(h.fs);
	calendar_free(h.cal);
}

TestSuite(rules, .init = setup, .fini = teardown, .timeout = 60);

/* Start over: events, engine, vehicle at (x, y) at time t. */
static void
restart_at(int64_t t, double x, double y, bool with_cal, bool with_fences)
{
	clear_events();
	h.max_id = 0;
	engine(with_cal, with_fences);
	h.t = t;
	h.x = x;
	h.y = y;
	h.trip = 0;
	h.engine = false;
	h.watch_known = false;
	h.ntrans = 0;
}

static void
watch(const char *id)
{
	h.watch = fence_set_find(h.fs, id);
	cr_assert_geq(h.watch, 0);
	h.watch_known = false;
	h.ntrans = 0;
}

static void
feed_fix(double kmh)
{
	struct fix	f;
	bool		in;

	memset(&f, 0, sizeof(f));
	f.t_utc_ms = h.t;
	xy_ll(h.x, h.y, &f.lat_deg, &f.lon_deg);
	f.alt_m = NAN;
	f.speed_mps = kmh / 3.6;
	f.heading_deg = NAN;
	f.hdop = 1.0;
	f.eph_m = 5.0;
	f.mode = 3;
	f.sats_used = 10;
	f.sats_visible = 14;
	rules_on_fix(h.r, &f);
	if (h.watch < 0)
		return;
	in = fence_set_locate(h.fs, (size_t)h.watch, f.lon_deg, f.lat_deg) !=
	    FENCE_OUT;
	if (h.watch_known && in != h.watch_in && h.ntrans < MAXTRANS) {
		h.trans[h.ntrans] = h.t;
		h.trans_in[h.ntrans++] = in;
	}
	h.watch_known = true;
	h.watch_in = in;
}

static void
feed_obd(double kmh)
{
	struct obd_sample	s;

	record_obd_clear(&s);
	s.rpm = h.engine ? 750.0 + 20.0 * kmh : 0.0;
	s.speed_kmh = kmh;
	s.fuel_level_pct = h.fuel_pct;
	s.mil_on = h.mil;
	rules_on_obd(h.r, &s, h.t);
}

/* secs steps of one second at kmh on bearing deg: OBD, then the fix. */
static void
go(int secs, double kmh, double bearing)
{
	double	m = kmh / 3.6, b = bearing * M_PI / 180.0;
	int	i;

	for (i = 0; i < secs; i++) {
		h.t += SEC;
		h.x += m * sin(b);
		h.y += m * cos(b);
		if (h.obd)
			feed_obd(kmh);
		if (h.gnss)
			feed_fix(kmh);
	}
}

static void
stay(int secs)
{
	go(secs, 0.0, 0.0);
}

/* Only ticks, every step ms, up to and including until. */
static void
tick_to(int64_t until, int64_t step)
{
	while (h.t < until) {
		h.t = h.t + step > until ? until : h.t + step;
		rules_tick(h.r, h.t);
	}
}

static void
trip_start(void)
{
	h.trip = ++h.ntrips + 100;
	h.engine = true;
	rules_trip_start(h.r, h.trip, h.t);
}

static void
trip_end(void)
{
	rules_trip_end(h.r, h.trip, h.t);
	h.trip = 0;
	h.engine = false;
}

/* Save, through text, into a fresh engine (same config and borrowings). */
static void
restart_engine(const struct rules_order *orders, size_t norders,
    bool with_cal, bool with_fences)
{
	json_t		*st, *back;
	json_error_t	 err;
	char		*txt;

	st = rules_save(h.r);
	cr_assert(json_is_object(st));
	txt = json_dumps(st, JSON_COMPACT);
	cr_assert_not_null(txt);
	json_decref(st);
	back = json_loads(txt, 0, &err);
	cr_assert_not_null(back, "%s: %s", txt, err.text);
	free(txt);
	engine(with_cal, with_fences);
	if (norders > 0)
		rules_set_orders(h.r, orders, norders);
	cr_assert_eq(rules_restore(h.r, back), 0);
	json_decref(back);
}

static struct rules_order
order(const char *id, int64_t from, int64_t to)
{
	struct rules_order	o;

	memset(&o, 0, sizeof(o));
	snprintf(o.id, sizeof(o.id), "%s", id);
	o.valid_from_ms = from;
	o.valid_to_ms = to;
	o.dest_lat = o.dest_lon = NAN;
	return o;
}

/* ------------------------------------------------------------- names */

Test(rules, type_and_severity_names)
{
	static const char *const names[] = {
		"after_hours_use", "holiday_use", "region_exit",
		"forbidden_place", "overnight_parking", "commute_pattern",
		"dispatch_mismatch", "speeding", "fatigue_driving",
		"excessive_idle", "fuel_drop", "gnss_lost_while_moving",
		"position_jump", "power_loss", "obd_lost", "dtc", "clock_jump",
		"storage_pressure", "inspection_export", "inspection"
	};
	static const enum rules_severity sev[] = {
		RULES_VIOLATION, RULES_VIOLATION, RULES_VIOLATION,
		RULES_VIOLATION, RULES_VIOLATION, RULES_VIOLATION,
		RULES_VIOLATION, RULES_WARNING, RULES_VIOLATION,
		RULES_WARNING, RULES_CRITICAL, RULES_CRITICAL,
		RULES_WARNING, RULES_WARNING, RULES_WARNING, RULES_WARNING,
		RULES_WARNING, RULES_WARNING, RULES_INFO, RULES_INFO
	};
	static const char *const sevnames[] = {
		"info", "warning", "violation", "critical"
	};
	enum rules_type		t;
	enum rules_severity	s;
	int			i;

	cr_assert_eq(NELEMS(names), RULES_TYPE_COUNT);
	for (i = 0; i < RULES_TYPE_COUNT; i++) {
		cr_assert_str_eq(rules_type_name((enum rules_type)i), names[i]);
		t = RULES_TYPE_COUNT;
		cr_assert_eq(rules_type_parse(names[i], &t), 0);
		cr_assert_eq(t, (enum rules_type)i);
		cr_assert_eq(rules_type_severity((enum rules_type)i), sev[i],
		    "%s", names[i]);
	}
	cr_assert_null(rules_type_name(RULES_TYPE_COUNT));
	cr_assert_null(rules_type_name((enum rules_type)-1));
	cr_assert_eq(rules_type_severity(RULES_TYPE_COUNT), RULES_INFO);
	t = RULES_SPEEDING;
	/* Events of other modules, case, prefixes: unknown here. */
	cr_assert_eq(rules_type_parse("inspection_exports", &t), -1);
	cr_assert_eq(rules_type_parse("Speeding", &t), -1);
	cr_assert_eq(rules_type_parse("speed", &t), -1);
	cr_assert_eq(rules_type_parse("speeding ", &t), -1);
	cr_assert_eq(rules_type_parse("", &t), -1);
	cr_assert_eq(t, RULES_SPEEDING);

	for (i = 0; i <= RULES_CRITICAL; i++) {
		cr_assert_str_eq(rules_severity_name((enum rules_severity)i),
		    sevnames[i]);
		s = RULES_INFO;
		cr_assert_eq(rules_severity_parse(sevnames[i], &s), 0);
		cr_assert_eq(s, (enum rules_severity)i);
	}
	s = (enum rules_severity)(RULES_CRITICAL + 1);
	cr_assert_null(rules_severity_name(s));
	cr_assert_null(rules_severity_name((enum rules_severity)-1));
	cr_assert_eq(rules_severity_parse("fatal", &s), -1);
	cr_assert_eq(rules_severity_parse("Warning", &s), -1);
	cr_assert_eq(rules_severity_parse("", &s), -1);
}

Test(rules, config_defaults_match_the_header)
{
	struct rules_config	c;
	uint8_t			gov = (1u << 1) | (1u << 2);

	memset(&c, 0xa5, sizeof(c));
	rules_config_default(&c);
	cr_assert_eq(c.vehicle_class, 0);
	cr_assert_eq(c.dispatch_grace_s, 900);
	cr_assert_eq(c.after_hours_use.min_s, 120);
	cr_assert_eq(c.after_hours_use.merge_s, 300);
	cr_assert_eq(c.after_hours_use.c.exempt_classes, gov);
	cr_assert_eq(c.holiday_use.min_s, 120);
	cr_assert_eq(c.holiday_use.merge_s, 300);
	cr_assert_eq(c.holiday_use.c.exempt_classes, gov);
	cr_assert_eq(c.region_exit.min_s, 60);
	cr_assert_eq(c.region_exit.reenter_s, 60);
	cr_assert_eq(c.forbidden_place.dwell_s, 300);
	cr_assert_eq(c.forbidden_place.exit_s, 60);
	cr_assert_eq(c.forbidden_place.ncategories, 0);
	cr_assert_eq(c.overnight_parking.check_min, HM(22, 0));
	cr_assert_eq(c.overnight_parking.morning_min, HM(6, 0));
	cr_assert_eq(c.commute_pattern.c.exempt_classes, gov);
	cr_assert_eq(c.commute_pattern.morning_from_min, HM(6, 30));
	cr_assert_eq(c.commute_pattern.morning_to_min, HM(9, 30));
	cr_assert_eq(c.commute_pattern.evening_from_min, HM(17, 0));
	cr_assert_eq(c.commute_pattern.evening_to_min, HM(20, 30));
	cr_assert_eq(c.commute_pattern.max_round_s, 5400);
	cr_assert_eq(c.commute_pattern.min_stop_s, 30);
	cr_assert_eq(c.commute_pattern.max_stop_s, 900);
	cr_assert_eq(c.commute_pattern.max_distance_m, 30000);
	cr_assert_eq(c.dispatch_mismatch.corridor_s, 120);
	cr_assert_float_eq(c.speeding.limit_kmh, 120.0, 1e-9);
	cr_assert_float_eq(c.speeding.class_limit_kmh[0], 0.0, 1e-9);
	cr_assert_float_eq(c.speeding.class_limit_kmh[3], 0.0, 1e-9);
	cr_assert_float_eq(c.speeding.tolerance_kmh, 5.0, 1e-9);
	cr_assert_eq(c.speeding.min_s, 30);
	cr_assert_eq(c.speeding.reset_s, 10);
	cr_assert_eq(c.fatigue_driving.max_drive_s, 14400);
	cr_assert_eq(c.fatigue_driving.min_rest_s, 1200);
	cr_assert_eq(c.excessive_idle.max_idle_s, 600);
	cr_assert_float_eq(c.fuel_drop.min_drop_pct, 5.0, 1e-9);
	cr_assert_float_eq(c.fuel_drop.min_drop_l, 0.0, 1e-9);
	cr_assert(isnan(c.fuel_drop.tank_l));
	cr_assert_float_eq(c.gnss_lost_while_moving.min_speed_kmh, 10.0, 1e-9);
	cr_assert_eq(c.gnss_lost_while_moving.min_s, 30);
	cr_assert_float_eq(c.position_jump.max_kmh, 200.0, 1e-9);
	cr_assert_eq(c.position_jump.min_jump_m, 1000);
	cr_assert_eq(c.obd_lost.min_s, 60);
	cr_assert_eq(c.clock_jump.tolerance_s, 300);
	/* Every rule on; only the usage rules exempt anybody. */
	cr_assert(c.after_hours_use.c.enabled && c.holiday_use.c.enabled &&
	    c.region_exit.c.enabled && c.forbidden_place.c.enabled &&
	    c.overnight_parking.c.enabled && c.commute_pattern.c.enabled &&
	    c.dispatch_mismatch.c.enabled && c.speeding.c.enabled &&
	    c.fatigue_driving.c.enabled && c.excessive_idle.c.enabled &&
	    c.fuel_drop.c.enabled && c.gnss_lost_while_moving.c.enabled &&
	    c.position_jump.c.enabled && c.power_loss.c.enabled &&
	    c.obd_lost.c.enabled && c.dtc.c.enabled &&
	    c.clock_jump.c.enabled);
	cr_assert_eq(c.region_exit.c.exempt_classes |
	    c.forbidden_place.c.exempt_classes |
	    c.overnight_parking.c.exempt_classes |
	    c.dispatch_mismatch.c.exempt_classes |
	    c.speeding.c.exempt_classes | c.fatigue_driving.c.exempt_classes |
	    c.excessive_idle.c.exempt_classes | c.fuel_drop.c.exempt_classes |
	    c.gnss_lost_while_moving.c.exempt_classes |
	    c.position_jump.c.exempt_classes | c.power_loss.c.exempt_classes |
	    c.obd_lost.c.exempt_classes | c.dtc.c.exempt_classes |
	    c.clock_jump.c.exempt_classes, 0);
}

/* ------------------------------------------- after hours and holidays */

struct span {
	enum rules_type	 type;
	int		 start_s, end_s;	/* local, from 00:00 */
	const char	*day;			/* details "day" */
	const char	*day_name;		/* NULL: none */
};

#define AH	RULES_AFTER_HOURS_USE
#define HOL	RULES_HOLIDAY_USE
#define DAY_S	86400

/* One trip at 36 km/h from from_s to to_s local on y-m-d. */
static const struct use_case {
	const char	*name;
	int		 y, m, d;
	int		 from_s, to_s;
	size_t		 n;
	struct span	 exp[2];
} use_cases[] = {
	{ "work ends at 17:30", 2026, 3, 3, HMS(17, 29, 0), HMS(17, 40, 0), 1,
	    { { AH, HMS(17, 30, 0), HMS(17, 40, 0), "workday", NULL } } },
	{ "a trip that ends at 17:31", 2026, 3, 3, HMS(17, 29, 0),
	    HMS(17, 31, 0), 0, { { AH, 0, 0, NULL, NULL } } },
	{ "starts legal, runs into after hours", 2026, 3, 3, HMS(16, 0, 0),
	    HMS(18, 0, 0), 1,
	    { { AH, HMS(17, 30, 0), HMS(18, 0, 0), "workday", NULL } } },
	{ "work starts at 08:30", 2026, 3, 3, HMS(8, 25, 0), HMS(8, 33, 0), 1,
	    { { AH, HMS(8, 25, 0), HMS(8, 30, 0), "workday", NULL } } },
	{ "work starts 50 s before the trip ends", 2026, 3, 3, HMS(8, 25, 0),
	    HMS(8, 30, 50), 1,
	    { { AH, HMS(8, 25, 0), HMS(8, 30, 0), "workday", NULL } } },
	{ "lunch break", 2026, 3, 3, HMS(11, 59, 0), HMS(12, 10, 0), 1,
	    { { AH, HMS(12, 0, 0), HMS(12, 10, 0), "workday", NULL } } },
	{ "119 s after work", 2026, 3, 3, HMS(19, 0, 0), HMS(19, 1, 59), 0,
	    { { AH, 0, 0, NULL, NULL } } },
	{ "120 s after work", 2026, 3, 3, HMS(19, 0, 0), HMS(19, 2, 0), 1,
	    { { AH, HMS(19, 0, 0), HMS(19, 2, 0), "workday", NULL } } },
	{ "across midnight", 2026, 3, 4, HMS(23, 50, 0), DAY_S + HMS(0, 10, 0),
	    1, { { AH, HMS(23, 50, 0), DAY_S + HMS(0, 10, 0), "workday",
	    NULL } } },
	{ "midnight into 国庆节", 2026, 9, 30, HMS(23, 50, 0),
	    DAY_S + HMS(0, 10, 0), 2,
	    { { AH, HMS(23, 50, 0), DAY_S, "workday", NULL },
	      { HOL, DAY_S, DAY_S + HMS(0, 10, 0), "holiday", "国庆节" } } },
	{ "调休 Saturday, working hours", 2026, 10, 10, HMS(10, 0, 0),
	    HMS(10, 30, 0), 0, { { AH, 0, 0, NULL, NULL } } },
	{ "调休 Saturday, after work", 2026, 10, 10, HMS(17, 20, 0),
	    HMS(17, 50, 0), 1, { { AH, HMS(17, 30, 0), HMS(17, 50, 0),
	    "workday", "国庆节调休上班" } } },
	{ "an ordinary Saturday", 2026, 10, 17, HMS(10, 0, 0), HMS(10, 20, 0),
	    1, { { AH, HMS(10, 0, 0), HMS(10, 20, 0), "rest_day", NULL } } },
	{ "国庆节, office hours", 2026, 10, 2, HMS(10, 0, 0), HMS(10, 20, 0),
	    1, { { HOL, HMS(10, 0, 0), HMS(10, 20, 0), "holiday", "国庆节" } } },
	{ "国庆节, evening", 2026, 10, 2, HMS(19, 0, 0), HMS(19, 20, 0), 1,
	    { { HOL, HMS(19, 0, 0), HMS(19, 20, 0), "holiday", "国庆节" } } },
	{ "the day after the holiday", 2026, 10, 8, HMS(10, 0, 0),
	    HMS(10, 20, 0), 0, { { AH, 0, 0, NULL, NULL } } },
	{ "the day after the holiday, after work", 2026, 10, 8,
	    HMS(17, 25, 0), HMS(17, 45, 0), 1,
	    { { AH, HMS(17, 30, 0), HMS(17, 45, 0), "workday", NULL } } },
	{ "holiday into the day after", 2026, 10, 7, HMS(23, 55, 0),
	    DAY_S + HMS(0, 10, 0), 2,
	    { { HOL, HMS(23, 55, 0), DAY_S, "holiday", "国庆节" },
	      { AH, DAY_S, DAY_S + HMS(0, 10, 0), "workday", NULL } } },
};

Test(rules, after_hours_and_holidays_table)
{
	const struct use_case	*uc;
	const struct evc	*c;
	const json_t		*dn;
	size_t			 i, j;

	for (i = 0; i < NELEMS(use_cases); i++) {
		uc = &use_cases[i];
		cr_log_info("case %s", uc->name);
		/* The receiver has a fix before the trip starts. */
		restart_at(L(uc->y, uc->m, uc->d, uc->from_s) - SEC, -1010,
		    -1000, true, false);
		go(1, 36.0, 90.0);
		trip_start();
		go(uc->to_s - uc->from_s, 36.0, 90.0);
		trip_end();
		cr_assert_eq(h.nev, 2 * uc->n, "%s:%s", uc->name, dump());
		for (j = 0; j < uc->n; j++) {
			c = expect_ep(uc->exp[j].type, 0,
			    L(uc->y, uc->m, uc->d, uc->exp[j].start_s),
			    L(uc->y, uc->m, uc->d, uc->exp[j].end_s));
			cr_assert_eq(c->e.trip_id, h.ntrips + 100);
			cr_assert_str_eq(c->e.fence_id, "");
			cr_assert(isfinite(c->e.lat_deg) &&
			    isfinite(c->e.lon_deg));
			cr_assert_str_eq(dstr(c, "day"), uc->exp[j].day, "%s",
			    uc->name);
			dn = json_object_get(c->d, "day_name");
			if (uc->exp[j].day_name == NULL)
				cr_assert_null(dn, "%s: %s", uc->name, c->s);
			else
				cr_assert_str_eq(json_string_value(dn),
				    uc->exp[j].day_name);
			cr_assert_str_eq(dstr(c, "work_hours"),
			    "08:30-12:00, 13:30-17:30");
			/* 10 m a second while it lasted (to the trip's end). */
			if (uc->exp[j].end_s == uc->to_s)
				cr_assert_float_eq(dnum(c, "distance_m"),
				    10.0 * (uc->exp[j].end_s -
				    uc->exp[j].start_s), 15.0, "%s: %s",
				    uc->name, c->s);
		}
	}
}

/* An OPEN reported at once, its CLOSE at the trip's end. */
Test(rules, after_hours_open_is_reported_after_min_s)
{
	const struct evc	*o;

	restart_at(L(2026, 3, 3, HMS(18, 0, 0)), -1000, -1000, true, false);
	trip_start();
	go(119, 36.0, 90.0);
	expect_total(0);
	go(1, 36.0, 90.0);
	expect_total(1);
	o = get(AH, RULES_EV_OPEN, 0);
	cr_assert_eq(o->e.start_utc_ms, L(2026, 3, 3, HMS(18, 0, 0)));
	cr_assert_eq(o->at, L(2026, 3, 3, HMS(18, 2, 0)));
	cr_assert_eq(o->e.end_utc_ms, 0);
	cr_assert_eq(o->e.severity, RULES_VIOLATION);
	cr_assert_eq(rules_open_count(h.r), 1);
	go(600, 36.0, 90.0);
	trip_end();
	expect_total(2);
	expect_ep(AH, 0, L(2026, 3, 3, HMS(18, 0, 0)),
	    L(2026, 3, 3, HMS(18, 12, 0)));
	cr_assert_eq(rules_open_count(h.r), 0);
}

/*
 * A covered gap shorter than merge_s (300 s) does not split the episode
 * (nor does the silence rule, the inputs went on); a longer one does.
 */
Test(rules, after_hours_merge_gap)
{
	struct rules_order	o;

	h.cfg.dispatch_grace_s = 0;
	restart_at(L(D0, HMS(19, 0, 0)) - SEC, -1010, -1000, true, false);
	o = order("o-gap", L(D0, HMS(19, 10, 0)), L(D0, HMS(19, 12, 0)));
	rules_set_orders(h.r, &o, 1);
	go(1, 36.0, 90.0);
	trip_start();
	go(1800, 36.0, 90.0);
	trip_end();
	/* The trip ran outside the order's window, too. */
	expect_total(3);
	expect_ep(AH, 0, L(D0, HMS(19, 0, 0)), L(D0, HMS(19, 30, 0)));
	get(RULES_DISPATCH_MISMATCH, RULES_EV_INSTANT, 0);

	restart_at(L(D0, HMS(19, 0, 0)) - SEC, -1010, -1000, true, false);
	o = order("o-gap", L(D0, HMS(19, 10, 0)), L(D0, HMS(19, 16, 0)));
	rules_set_orders(h.r, &o, 1);
	go(1, 36.0, 90.0);
	trip_start();
	go(1800, 36.0, 90.0);
	trip_end();
	expect_total(5);
	expect_ep(AH, 0, L(D0, HMS(19, 0, 0)), L(D0, HMS(19, 10, 0)));
	cr_assert_eq(get(AH, RULES_EV_CLOSE, 0)->at, L(D0, HMS(19, 15, 0)));
	expect_ep(AH, 1, L(D0, HMS(19, 16, 1)), L(D0, HMS(19, 30, 0)));
}

/* ------------------------------------------------------ dispatch orders */

Test(rules, order_covers_half_a_trip)
{
	struct rules_order	 o;
	const struct evc	*c;

	/* The order starts at 19:45: with the grace, 19:30 on is covered. */
	restart_at(L(2026, 3, 3, HMS(19, 0, 0)), -1000, -1000, true, false);
	o = order("o-late", L(2026, 3, 3, HMS(19, 45, 0)),
	    L(2026, 3, 3, HMS(21, 0, 0)));
	rules_set_orders(h.r, &o, 1);
	cr_assert_null(rules_covering_order(h.r,
	    L(2026, 3, 3, HMS(19, 29, 59))));
	cr_assert_str_eq(rules_covering_order(h.r,
	    L(2026, 3, 3, HMS(19, 30, 0))), "o-late");
	cr_assert_str_eq(rules_covering_order(h.r,
	    L(2026, 3, 3, HMS(21, 15, 0))), "o-late");
	cr_assert_null(rules_covering_order(h.r,
	    L(2026, 3, 3, HMS(21, 15, 1))));
	trip_start();
	go(3600, 36.0, 90.0);
	trip_end();
	expect_total(3);
	expect_ep(AH, 0, L(2026, 3, 3, HMS(19, 0, 0)),
	    L(2026, 3, 3, HMS(19, 30, 0)));
	/* The trip began 30 min before the window (with its grace). */
	c = expect_instant(RULES_DISPATCH_MISMATCH, 0,
	    L(2026, 3, 3, HMS(19, 0, 0)), L(2026, 3, 3, HMS(20, 0, 0)));
	cr_assert_str_eq(dstr(c, "reason"), "outside_window");
	cr_assert_str_eq(dstr(c, "order_id"), "o-late");
	cr_assert_eq(dnum(c, "early_s"), 1800);
	cr_assert_eq(dnum(c, "late_s"), 0);

	/* No grace: covered from 19:45 only. */
	h.cfg.dispatch_grace_s = 0;
	restart_at(L(2026, 3, 3, HMS(19, 0, 0)), -1000, -1000, true, false);
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(3600, 36.0, 90.0);
	trip_end();
	expect_total(3);
	expect_ep(AH, 0, L(2026, 3, 3, HMS(19, 0, 0)),
	    L(2026, 3, 3, HMS(19, 45, 0)));
	c = get(RULES_DISPATCH_MISMATCH, RULES_EV_INSTANT, 0);
	cr_assert_eq(dnum(c, "early_s"), 2700);
	h.cfg.dispatch_grace_s = 900;

	/* An order for the first half: 18:00-19:00, covered to 19:15:00. */
	restart_at(L(2026, 3, 3, HMS(18, 30, 0)), -1000, -1000, true, false);
	o = order("o-early", L(2026, 3, 3, HMS(18, 0, 0)),
	    L(2026, 3, 3, HMS(19, 0, 0)));
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(70 * 60, 36.0, 90.0);
	trip_end();
	expect_total(3);
	expect_ep(AH, 0, L(2026, 3, 3, HMS(19, 15, 1)),
	    L(2026, 3, 3, HMS(19, 40, 0)));
	c = expect_instant(RULES_DISPATCH_MISMATCH, 0,
	    L(2026, 3, 3, HMS(18, 30, 0)), L(2026, 3, 3, HMS(19, 40, 0)));
	cr_assert_eq(dnum(c, "early_s"), 0);
	cr_assert_eq(dnum(c, "late_s"), 1500);
	cr_assert_eq(c->e.trip_id, h.ntrips + 100);

	/* An order for the whole trip, and one on a holiday: nothing. */
	restart_at(L(2026, 3, 3, HMS(19, 5, 0)), -1000, -1000, true, false);
	o = order("o-all", L(2026, 3, 3, HMS(19, 0, 0)),
	    L(2026, 3, 3, HMS(20, 0, 0)));
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(50 * 60, 36.0, 90.0);
	trip_end();
	expect_total(0);
	restart_at(L(2026, 10, 2, HMS(10, 0, 0)), -1000, -1000, true, false);
	o = order("o-hol", L(2026, 10, 2, HMS(10, 0, 0)),
	    L(2026, 10, 2, HMS(11, 0, 0)));
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(30 * 60, 36.0, 90.0);
	trip_end();
	expect_total(0);
}

/* Trips against the window 09:00-10:00 (grace 15 min), in office hours. */
Test(rules, dispatch_window_table)
{
	static const struct {
		int	 from_s, to_s;
		bool	 event;
		int	 early_s, late_s;
	} cases[] = {
		{ HMS(9, 30, 0), HMS(10, 30, 0), true, 0, 900 },
		{ HMS(8, 40, 0), HMS(9, 30, 0), true, 300, 0 },
		{ HMS(8, 40, 0), HMS(10, 20, 0), true, 300, 300 },
		{ HMS(8, 50, 0), HMS(10, 10, 0), false, 0, 0 },
		{ HMS(8, 45, 0), HMS(10, 15, 0), false, 0, 0 },
		{ HMS(10, 20, 0), HMS(10, 40, 0), false, 0, 0 }, /* unused */
	};
	struct rules_order	 o;
	const struct evc	*c;
	size_t			 i;

	o = order("o-1", L(2026, 3, 3, HMS(9, 0, 0)),
	    L(2026, 3, 3, HMS(10, 0, 0)));
	for (i = 0; i < NELEMS(cases); i++) {
		restart_at(L(2026, 3, 3, cases[i].from_s), -1000, -1000, true,
		    false);
		rules_set_orders(h.r, &o, 1);
		trip_start();
		go(cases[i].to_s - cases[i].from_s, 18.0, 0.0);
		trip_end();
		if (!cases[i].event) {
			expect_total(0);
			continue;
		}
		expect_total(1);
		c = expect_instant(RULES_DISPATCH_MISMATCH, 0,
		    L(2026, 3, 3, cases[i].from_s),
		    L(2026, 3, 3, cases[i].to_s));
		cr_assert_str_eq(dstr(c, "reason"), "outside_window");
		cr_assert_str_eq(dstr(c, "order_id"), "o-1");
		cr_assert_eq(dnum(c, "early_s"), cases[i].early_s);
		cr_assert_eq(dnum(c, "late_s"), cases[i].late_s);
		cr_assert_str_eq(c->e.fence_id, "");
		cr_assert_eq(c->e.severity, RULES_VIOLATION);
	}
}

/*
 * Destination checks: the verdict comes when the window (with its grace)
 * is over: 10:15:00 is still inside, the first tick after it reports.
 */
Test(rules, dispatch_destination)
{
	struct rules_order	 o;
	const struct evc	*c;
	double			 lat, lon;
	int			 pass;

	for (pass = 0; pass < 4; pass++) {
		restart_at(L(2026, 3, 3, HMS(9, 10, 0)), -1000, -1000, true,
		    true);
		o = order("o-dest", L(2026, 3, 3, HMS(9, 0, 0)),
		    L(2026, 3, 3, HMS(10, 0, 0)));
		if (pass < 2) {
			/* The hospital's gate as a point with a radius. */
			o.has_dest_point = true;
			xy_ll(0, -3000, &o.dest_lat, &o.dest_lon);
			o.dest_radius_m = 50;
		} else
			snprintf(o.dest_fence, sizeof(o.dest_fence),
			    "hospital");
		rules_set_orders(h.r, &o, 1);
		trip_start();
		if (pass % 2 == 0) {
			/* Elsewhere: east for 10 min. */
			go(600, 36.0, 90.0);
		} else {
			/* (-1000, -1000) to (0, -3000) and a stop there. */
			go(100, 36.0, 90.0);
			go(200, 36.0, 180.0);
			stay(60);
		}
		trip_end();
		tick_to(L(2026, 3, 3, HMS(10, 15, 0)), SEC);
		expect_total(0);
		tick_to(L(2026, 3, 3, HMS(10, 30, 0)), SEC);
		if (pass % 2 == 1) {
			expect_total(0);
			continue;
		}
		expect_total(1);
		c = expect_instant(RULES_DISPATCH_MISMATCH, 0,
		    L(2026, 3, 3, HMS(9, 10, 1)), L(2026, 3, 3, HMS(10, 0, 0)));
		cr_assert_eq(c->at, L(2026, 3, 3, HMS(10, 15, 1)));
		cr_assert_str_eq(dstr(c, "reason"), "destination_not_reached");
		cr_assert_str_eq(dstr(c, "order_id"), "o-dest");
		cr_assert_eq(c->e.trip_id, h.ntrips + 100);
		if (pass == 0) {
			xy_ll(0, -3000, &lat, &lon);
			cr_assert_float_eq(dnum(c, "dest_lat"), lat, 1e-7);
			cr_assert_float_eq(dnum(c, "dest_lon"), lon, 1e-7);
			cr_assert_float_eq(dnum(c, "dest_radius_m"), 50, 1e-9);
			cr_assert_str_eq(c->e.fence_id, "");
		} else {
			cr_assert_str_eq(c->e.fence_id, "hospital");
			cr_assert_str_eq(dstr(c, "fence_name"), "人民医院");
		}
	}
}

/*
 * A trip that first uses an order in the grace after its window and
 * misses the destination: the INSTANT ends at that first use, not at
 * the end of the window before it (end < start, found by fuzz_rules).
 */
Test(rules, dispatch_destination_first_used_in_the_grace)
{
	struct rules_order	 o;
	const struct evc	*c;

	restart_at(L(2026, 3, 3, HMS(10, 5, 0)), -1000, -1000, true, true);
	o = order("o-late", L(2026, 3, 3, HMS(9, 0, 0)),
	    L(2026, 3, 3, HMS(10, 0, 0)));
	snprintf(o.dest_fence, sizeof(o.dest_fence), "hospital");
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(300, 36.0, 90.0);
	trip_end();
	expect_total(0);
	tick_to(L(2026, 3, 3, HMS(10, 30, 0)), SEC);
	expect_total(1);
	c = expect_instant(RULES_DISPATCH_MISMATCH, 0,
	    L(2026, 3, 3, HMS(10, 5, 1)), L(2026, 3, 3, HMS(10, 5, 1)));
	cr_assert_str_eq(dstr(c, "reason"), "destination_not_reached");
}

/* Along the corridor, 3 min off it, back: one episode from the exit. */
Test(rules, dispatch_corridor_left)
{
	struct rules_order	 o;
	const struct evc	*c;

	restart_at(L(2026, 3, 3, HMS(9, 10, 0)), 0, 500, true, true);
	o = order("o-route", L(2026, 3, 3, HMS(9, 0, 0)),
	    L(2026, 3, 3, HMS(10, 0, 0)));
	snprintf(o.corridor_fence, sizeof(o.corridor_fence), "route");
	rules_set_orders(h.r, &o, 1);
	watch("route");
	trip_start();
	go(50, 36.0, 0.0);		/* north to (0, 1000) */
	go(180, 36.0, 90.0);		/* east, off the route */
	go(180, 36.0, 270.0);		/* back */
	go(100, 36.0, 0.0);		/* north along it */
	cr_assert_eq(h.ntrans, 2);
	cr_assert(!h.trans_in[0] && h.trans_in[1]);
	trip_end();
	expect_total(2);
	c = expect_ep(RULES_DISPATCH_MISMATCH, 0, h.trans[0], h.trans[1]);
	cr_assert_eq(get(RULES_DISPATCH_MISMATCH, RULES_EV_OPEN, 0)->at,
	    h.trans[0] + 120 * SEC);
	cr_assert_str_eq(c->e.fence_id, "route");
	cr_assert_str_eq(dstr(c, "reason"), "corridor_left");
	cr_assert_str_eq(dstr(c, "order_id"), "o-route");
	cr_assert_str_eq(dstr(c, "fence_name"), "派车路线");

	/* Off it for less than corridor_s: nothing. */
	restart_at(L(2026, 3, 3, HMS(9, 10, 0)), 0, 500, true, true);
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(50, 36.0, 0.0);
	go(60, 36.0, 90.0);
	go(60, 36.0, 270.0);
	go(100, 36.0, 0.0);
	trip_end();
	expect_total(0);
}

/* ----------------------------------------------------- forbidden places */

/* In at 95 m, out at 105 m from the KTV's centre, every other second. */
Test(rules, forbidden_place_edge_jitter)
{
	const struct evc	*c;
	int64_t			 first_in, last_in;
	int			 i;

	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 3000 - 105, 0, true, true);
	trip_start();
	go(1, 0.0, 0.0);
	first_in = h.t + SEC;
	for (i = 0; i < 300; i++) {
		h.x = 3000 - (i % 2 == 0 ? 95 : 105);
		go(1, 0.0, 0.0);
	}
	last_in = h.t - SEC;			/* i = 298 */
	go(120, 18.0, 270.0);			/* away, west */
	trip_end();
	expect_total(2);
	c = expect_ep(RULES_FORBIDDEN_PLACE, 0, first_in, last_in + SEC);
	cr_assert_eq(get(RULES_FORBIDDEN_PLACE, RULES_EV_OPEN, 0)->at,
	    first_in + 180 * SEC);
	cr_assert_str_eq(c->e.fence_id, "ktv");
	cr_assert_str_eq(dstr(c, "fence_name"), "KTV");
	cr_assert_str_eq(dstr(c, "category"), "entertainment");
	cr_assert_eq(dnum(c, "dwell_limit_s"), 180);
	cr_assert_eq(dnum(c, "stay_s"), (last_in + SEC - first_in) / SEC);
	cr_assert_eq(c->e.severity, RULES_VIOLATION);
}

/*
 * A stay of dwell - 1 s (first to last fix inside) gives nothing, one of
 * dwell + 1 s an episode: the fence's own dwell_s (golf, 120 s, over its
 * category's 999), the category's (entertainment, 180 s), the rule's
 * default (scenic, 300 s).
 */
Test(rules, forbidden_place_dwell_table)
{
	static const struct {
		const char	*id;
		double		 x, y;
		int		 dwell_s;
	} places[] = {
		{ "golf", 3000, 2000, 120 },
		{ "ktv", 3000, 0, 180 },
		{ "scenic", 3000, -2000, 300 },
	};
	const struct evc	*c;
	int64_t			 t_in;
	size_t			 i;
	int			 k, stay_s;

	for (i = 0; i < NELEMS(places); i++) {
		for (k = -1; k <= 1; k += 2) {
			stay_s = places[i].dwell_s + k;
			restart_at(L(2026, 3, 3, HMS(10, 0, 0)),
			    places[i].x - 300, places[i].y, true, true);
			trip_start();
			go(1, 36.0, 90.0);
			h.x = places[i].x;	/* stopped at the centre */
			go(1, 0.0, 0.0);
			t_in = h.t;
			stay(stay_s);
			h.x = places[i].x + 300;
			go(120, 36.0, 90.0);
			trip_end();
			if (k < 0) {
				expect_total(0);
				continue;
			}
			expect_total(2);
			c = expect_ep(RULES_FORBIDDEN_PLACE, 0, t_in,
			    t_in + (stay_s + 1) * SEC);
			cr_assert_eq(get(RULES_FORBIDDEN_PLACE, RULES_EV_OPEN,
			    0)->at, t_in + places[i].dwell_s * SEC);
			cr_assert_str_eq(c->e.fence_id, places[i].id);
			cr_assert_eq(dnum(c, "dwell_limit_s"),
			    places[i].dwell_s);
			cr_assert_eq(dnum(c, "stay_s"), stay_s + 1);
		}
	}
}

/* Out for less than exit_s and back: the same stay. */
Test(rules, forbidden_place_short_exit_is_one_stay)
{
	int64_t	t_in;

	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 3000, -2300, true, true);
	trip_start();
	go(1, 36.0, 0.0);
	h.y = -2000;
	go(1, 0.0, 0.0);
	t_in = h.t;
	stay(200);
	h.y = -1700;			/* out for 50 s */
	stay(50);
	h.y = -2000;
	stay(100);			/* 351 s since t_in */
	h.y = -1700;
	stay(61);
	trip_end();
	expect_total(2);
	expect_ep(RULES_FORBIDDEN_PLACE, 0, t_in, t_in + 351 * SEC);
	cr_assert_eq(get(RULES_FORBIDDEN_PLACE, RULES_EV_OPEN, 0)->at,
	    t_in + 300 * SEC);
}

/* ---------------------------------------------------------- region exit */

Test(rules, region_exit_with_reenter_hysteresis)
{
	const struct evc	*c;

	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 7805, 0, true, true);
	watch("county");
	trip_start();
	go(180, 36.0, 90.0);		/* out at 8005, to 9605 */
	go(180, 36.0, 270.0);		/* in at 7995, to 7805 */
	go(30, 36.0, 90.0);		/* out again at 8005 */
	stay(60);
	go(150, 36.0, 270.0);		/* in at 7995, to 6605 */
	stay(90);
	trip_end();
	cr_assert_eq(h.ntrans, 4);
	/* Inside for 39 s between the two exits: less than reenter_s. */
	cr_assert_eq(h.trans[2] - h.trans[1], 39 * SEC);
	expect_total(2);
	c = expect_ep(RULES_REGION_EXIT, 0, h.trans[0], h.trans[3]);
	cr_assert_eq(get(RULES_REGION_EXIT, RULES_EV_OPEN, 0)->at,
	    h.trans[0] + 60 * SEC);
	cr_assert_str_eq(c->e.fence_id, "county");
	cr_assert_str_eq(dstr(c, "left_region"), "county");
	cr_assert_float_eq(dnum(c, "farthest_m"), 1600, 2);
	cr_assert_eq(c->e.severity, RULES_VIOLATION);

	/* Back inside for reenter_s between two exits: two episodes. */
	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 7805, 0, true, true);
	watch("county");
	trip_start();
	go(180, 36.0, 90.0);
	go(180, 36.0, 270.0);
	stay(60);
	go(30, 36.0, 90.0);
	stay(120);
	go(50, 36.0, 270.0);
	stay(60);
	trip_end();
	cr_assert_eq(h.ntrans, 4);
	expect_total(4);
	expect_ep(RULES_REGION_EXIT, 0, h.trans[0], h.trans[1]);
	expect_ep(RULES_REGION_EXIT, 1, h.trans[2], h.trans[3]);

	/* The same with reenter_s 120: one episode, closed 120 s after. */
	h.cfg.region_exit.reenter_s = 120;
	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 7805, 0, true, true);
	watch("county");
	trip_start();
	go(180, 36.0, 90.0);
	go(180, 36.0, 270.0);
	stay(60);
	go(30, 36.0, 90.0);
	stay(120);
	go(50, 36.0, 270.0);
	stay(130);
	trip_end();
	cr_assert_eq(h.ntrans, 4);
	expect_total(2);
	expect_ep(RULES_REGION_EXIT, 0, h.trans[0], h.trans[3]);
	cr_assert_eq(get(RULES_REGION_EXIT, RULES_EV_CLOSE, 0)->at,
	    h.trans[3] + 120 * SEC);
}

/* In 7995 / out 8005 every other second, then back: one episode. */
Test(rules, region_exit_edge_jitter)
{
	int64_t	first_out;
	int	i;

	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 7900, 0, true, true);
	trip_start();
	go(1, 0.0, 0.0);
	first_out = h.t + SEC;
	for (i = 0; i < 300; i++) {
		h.x = i % 2 == 0 ? 8005 : 7995;
		go(1, 0.0, 0.0);
	}
	/* The last fix (i = 299) was inside: that is where it ends. */
	h.x = 7900;
	stay(120);
	trip_end();
	expect_total(2);
	expect_ep(RULES_REGION_EXIT, 0, first_out, first_out + 299 * SEC);
}

/* An order covers the time: an approved trip out of the county. */
Test(rules, region_exit_covered_by_an_order)
{
	struct rules_order	o;

	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 7805, 0, true, true);
	o = order("o-out", L(2026, 3, 3, HMS(10, 0, 0)),
	    L(2026, 3, 3, HMS(11, 0, 0)));
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(600, 36.0, 90.0);
	go(600, 36.0, 270.0);
	trip_end();
	expect_total(0);

	/* The order ends at 10:00 (+ 15 min grace): reported from then. */
	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 7805, 0, true, true);
	o = order("o-out", L(2026, 3, 3, HMS(9, 0, 0)),
	    L(2026, 3, 3, HMS(10, 0, 0)));
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(1800, 18.0, 90.0);		/* out at 10:00:40, to 16.8 km */
	trip_end();
	/* Parked outside: the episode goes on. */
	expect_total(2);
	expect_ep(RULES_REGION_EXIT, 0, L(2026, 3, 3, HMS(10, 15, 1)), -1);
	cr_assert_eq(get(RULES_REGION_EXIT, RULES_EV_OPEN, 0)->at,
	    L(2026, 3, 3, HMS(10, 16, 1)));
	expect_instant(RULES_DISPATCH_MISMATCH, 0, L(2026, 3, 3, HMS(10, 0, 0)),
	    L(2026, 3, 3, HMS(10, 30, 0)));
}

/* ---------------------------------------------------- overnight parking */

/* Drive from (-1000, -1000) 10 min east, park at (2000, -1000). */
static void
park_outside_at(int64_t t_end)
{
	h.t = t_end - 600 * SEC;
	h.x = -1000;
	h.y = -1000;
	trip_start();
	go(600, 18.0, 90.0);
	trip_end();
}

/* From (0, 1500) north into the lot, ending at t_end. */
static void
park_in_lot_at(int64_t t_end)
{
	h.t = t_end - 60 * SEC;
	h.x = 0;
	h.y = 1500;
	trip_start();
	go(50, 36.0, 0.0);
	stay(10);
	trip_end();
}

Test(rules, overnight_parked_outside_at_the_check)
{
	const struct evc	*c;

	restart_at(L(D0, HMS(20, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D0, HMS(21, 0, 0)));
	tick_to(L(D0, HMS(21, 59, 0)), 60 * SEC);
	expect_total(0);
	tick_to(L(D1, HMS(6, 30, 0)), 60 * SEC);
	expect_total(2);
	c = expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(22, 0, 0)),
	    L(D1, HMS(6, 0, 0)));
	cr_assert_eq(get(RULES_OVERNIGHT_PARKING, RULES_EV_OPEN, 0)->at,
	    L(D0, HMS(22, 0, 0)));
	cr_assert_eq(c->at, L(D1, HMS(6, 0, 0)));
	cr_assert_str_eq(dstr(c, "reason"), "not_parked_at_check");
	cr_assert_str_eq(dstr(c, "check_time"), "22:00");
	cr_assert_str_eq(c->e.fence_id, "");
	cr_assert(isfinite(c->e.lat_deg) && isfinite(c->e.lon_deg));
	cr_assert_eq(c->e.severity, RULES_VIOLATION);

	/* In the lot: nothing all night. */
	restart_at(L(D0, HMS(20, 0, 0)), 0, 0, false, true);
	park_in_lot_at(L(D0, HMS(21, 0, 0)));
	tick_to(L(D1, HMS(7, 0, 0)), 60 * SEC);
	expect_total(0);

	/* Another check time: 23:30, the morning at 05:00. */
	h.cfg.overnight_parking.check_min = HM(23, 30);
	h.cfg.overnight_parking.morning_min = HM(5, 0);
	restart_at(L(D0, HMS(20, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D0, HMS(21, 0, 0)));
	tick_to(L(D1, HMS(7, 0, 0)), 7 * SEC);
	expect_total(2);
	c = expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(23, 30, 0)),
	    L(D1, HMS(5, 0, 0)));
	cr_assert_str_eq(dstr(c, "check_time"), "23:30");
}

Test(rules, overnight_ignition_off_after_the_check)
{
	const struct evc	*c;

	/* Driving at 22:00 (no check then), parked outside at 22:30. */
	restart_at(L(D0, HMS(21, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D0, HMS(22, 30, 0)));
	tick_to(L(D0, HMS(22, 44, 59)), SEC);
	expect_total(0);
	tick_to(L(D0, HMS(22, 50, 0)), SEC);
	expect_total(1);
	tick_to(L(D1, HMS(7, 0, 0)), 60 * SEC);
	expect_total(2);
	c = expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(22, 30, 0)),
	    L(D1, HMS(6, 0, 0)));
	cr_assert_eq(get(RULES_OVERNIGHT_PARKING, RULES_EV_OPEN, 0)->at,
	    L(D0, HMS(22, 45, 0)));
	cr_assert_str_eq(dstr(c, "reason"), "ignition_off_after_check");

	/* The same into the lot: nothing. */
	restart_at(L(D0, HMS(21, 0, 0)), 0, 0, false, true);
	park_in_lot_at(L(D0, HMS(22, 30, 0)));
	tick_to(L(D1, HMS(7, 0, 0)), 60 * SEC);
	expect_total(0);

	/* Parked outside at 05:50: the night ends before 15 min. */
	restart_at(L(D1, HMS(5, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D1, HMS(5, 50, 0)));
	tick_to(L(D1, HMS(9, 0, 0)), SEC);
	expect_total(0);
}

/* A replayed log: the last record at 18:00, the next at 07:00. */
Test(rules, overnight_replay_jumps_over_the_night)
{
	restart_at(L(D0, HMS(17, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D0, HMS(18, 0, 0)));
	h.t = L(D1, HMS(7, 0, 0)) - SEC;
	stay(1);
	expect_total(2);
	expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(22, 0, 0)),
	    L(D1, HMS(6, 0, 0)));
	cr_assert_eq(h.ev[0].at, L(D1, HMS(7, 0, 0)));

	/* Jump into the night (02:00), then to the morning. */
	restart_at(L(D0, HMS(17, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D0, HMS(18, 0, 0)));
	h.t = L(D1, HMS(2, 0, 0));
	rules_tick(h.r, h.t);
	expect_total(1);
	expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(22, 0, 0)), -1);
	h.t = L(D1, HMS(8, 0, 0));
	rules_tick(h.r, h.t);
	expect_total(2);
	expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(22, 0, 0)),
	    L(D1, HMS(6, 0, 0)));
}

/* A weekend with the gateway off: every night is checked, at its time. */
Test(rules, overnight_jump_over_several_nights)
{
	restart_at(L(2026, 3, 6, HMS(17, 0, 0)), 0, 0, false, true);
	park_outside_at(L(2026, 3, 6, HMS(18, 0, 0)));	/* a Friday */
	h.t = L(2026, 3, 9, HMS(7, 0, 0)) - SEC;	/* Monday */
	stay(1);
	expect_total(6);
	expect_ep(RULES_OVERNIGHT_PARKING, 0, L(2026, 3, 6, HMS(22, 0, 0)),
	    L(2026, 3, 7, HMS(6, 0, 0)));
	expect_ep(RULES_OVERNIGHT_PARKING, 1, L(2026, 3, 7, HMS(22, 0, 0)),
	    L(2026, 3, 8, HMS(6, 0, 0)));
	expect_ep(RULES_OVERNIGHT_PARKING, 2, L(2026, 3, 8, HMS(22, 0, 0)),
	    L(2026, 3, 9, HMS(6, 0, 0)));

	/* From inside a night (Saturday 02:00) to Monday 03:00. */
	restart_at(L(2026, 3, 6, HMS(17, 0, 0)), 0, 0, false, true);
	park_outside_at(L(2026, 3, 6, HMS(18, 0, 0)));
	h.t = L(2026, 3, 7, HMS(2, 0, 0));
	rules_tick(h.r, h.t);
	h.t = L(2026, 3, 9, HMS(3, 0, 0));
	rules_tick(h.r, h.t);
	expect_total(5);
	expect_ep(RULES_OVERNIGHT_PARKING, 0, L(2026, 3, 6, HMS(22, 0, 0)),
	    L(2026, 3, 7, HMS(6, 0, 0)));
	expect_ep(RULES_OVERNIGHT_PARKING, 1, L(2026, 3, 7, HMS(22, 0, 0)),
	    L(2026, 3, 8, HMS(6, 0, 0)));
	expect_ep(RULES_OVERNIGHT_PARKING, 2, L(2026, 3, 8, HMS(22, 0, 0)), -1);
}

/* Parked outside at 22:00, driven to the lot at 23:00. */
Test(rules, overnight_ends_when_the_car_moves)
{
	restart_at(L(D0, HMS(20, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D0, HMS(21, 0, 0)));
	tick_to(L(D0, HMS(23, 0, 0)), 60 * SEC);
	h.x = -1000;
	h.y = -1000;
	trip_start();
	go(100, 36.0, 90.0);
	go(300, 36.0, 0.0);		/* to (0, 2000): the lot */
	stay(30);
	trip_end();
	tick_to(L(D1, HMS(7, 0, 0)), 60 * SEC);
	expect_total(2);
	expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(22, 0, 0)),
	    L(D0, HMS(23, 0, 0)));
}

/* ------------------------------------------------------------- commute */

/*
 * From inside the office (-5, 0): 10 s, south 300 s at 36 km/h, a stop
 * of stop_s, north 300 s back into the office, 30 s there.
 */
static void
commute_run(int64_t t0, int stop_s)
{
	h.t = t0;
	h.x = -5;
	h.y = 0;
	watch("office");
	stay(10);
	go(300, 36.0, 180.0);
	stay(stop_s);
	go(300, 36.0, 0.0);
	stay(30);
	cr_assert_eq(h.ntrans, 2);
	cr_assert(!h.trans_in[0] && h.trans_in[1]);
}

Test(rules, commute_pattern_table)
{
	static const struct {
		const char	*name;
		int		 start_s;	/* local, 2026-03-03 */
		int		 stop_s;
		int		 vclass;
		bool		 order;
		const char	*window;	/* NULL: no event */
	} cases[] = {
		{ "morning, 2 min stop", HMS(7, 30, 0), 120, 0, false,
		    "morning" },
		{ "morning, 40 min stop", HMS(7, 30, 0), 2400, 0, false, NULL },
		{ "morning, 29 s stop", HMS(7, 30, 0), 29, 0, false, NULL },
		{ "morning, 30 s stop", HMS(7, 30, 0), 30, 0, false,
		    "morning" },
		{ "morning, 15 min stop", HMS(7, 30, 0), 900, 0, false,
		    "morning" },
		{ "mid-morning", HMS(10, 30, 0), 120, 0, false, NULL },
		{ "leaves at 09:20", HMS(9, 20, 0), 120, 0, false, "morning" },
		{ "leaves at 09:31", HMS(9, 31, 0), 120, 0, false, NULL },
		{ "evening", HMS(17, 30, 0), 120, 0, false, "evening" },
		{ "returns at 17:0x", HMS(16, 50, 0), 120, 0, false,
		    "evening" },
		{ "with an order", HMS(7, 30, 0), 120, 0, true, NULL },
		{ "emergency vehicle", HMS(7, 30, 0), 120, 1, false, NULL },
	};
	struct rules_order	 o;
	const struct evc	*c;
	double			 lat, lon;
	size_t			 i;

	for (i = 0; i < NELEMS(cases); i++) {
		cr_log_info("case %s", cases[i].name);
		h.cfg.vehicle_class = cases[i].vclass;
		restart_at(0, 0, 0, false, true);
		if (cases[i].order) {
			o = order("o-commute",
			    L(D0, cases[i].start_s) + 5 * MINUTE,
			    L(D0, cases[i].start_s) + 20 * MINUTE);
			rules_set_orders(h.r, &o, 1);
		}
		commute_run(L(D0, cases[i].start_s), cases[i].stop_s);
		if (cases[i].window == NULL) {
			expect_total(0);
			continue;
		}
		expect_total(1);
		c = expect_instant(RULES_COMMUTE_PATTERN, 0, h.trans[0],
		    h.trans[1]);
		cr_assert_str_eq(c->e.fence_id, "office");
		cr_assert_str_eq(dstr(c, "window"), cases[i].window);
		cr_assert_str_eq(dstr(c, "fence_name"), "县委大院");
		cr_assert_eq(dnum(c, "stop_s"), cases[i].stop_s);
		cr_assert_eq(dnum(c, "stops"), 1);
		cr_assert_eq(dnum(c, "round_s"), (h.trans[1] - h.trans[0]) /
		    SEC);
		cr_assert_float_eq(dnum(c, "farthest_m"), 2850, 11);
		/* Where it stopped. */
		xy_ll(-5, -3000, &lat, &lon);
		cr_assert_float_eq(c->e.lat_deg, lat, 1e-6);
		cr_assert_float_eq(c->e.lon_deg, lon, 1e-6);
		cr_assert_eq(c->e.severity, RULES_VIOLATION);
	}
	h.cfg.vehicle_class = 0;
}

/* The stop with the engine off: no fix for 2 min, at the same place. */
Test(rules, commute_stop_without_fixes)
{
	const struct evc	*c;

	restart_at(0, 0, 0, false, true);
	h.t = L(D0, HMS(7, 30, 0));
	h.x = -5;
	watch("office");
	stay(10);
	go(300, 36.0, 180.0);
	h.t += 120 * SEC;
	go(300, 36.0, 0.0);
	stay(30);
	cr_assert_eq(h.ntrans, 2);
	expect_total(1);
	c = expect_instant(RULES_COMMUTE_PATTERN, 0, h.trans[0], h.trans[1]);
	/* From the last fix before the gap to the first after it. */
	cr_assert_eq(dnum(c, "stop_s"), 121);
}

/* --------------------------------------------------------------- speeding */

struct leg {
	double	kmh;
	int	secs;
};

static const struct speed_case {
	const char	*name;
	int		 vclass;
	double		 class_limit;	/* for vclass; 0 none */
	bool		 disabled;
	struct leg	 legs[5];
	size_t		 nlegs;
	size_t		 nep;
	struct {
		size_t	 from, to;	/* legs: first fix of each */
		double	 limit, max;
	} ep[2];
} speed_cases[] = {
	{ "min_s + 1", 0, 0, false, { { 80, 10 }, { 130, 31 }, { 80, 30 } },
	    3, 1, { { 1, 2, 120, 130 } } },
	{ "min_s - 1", 0, 0, false, { { 80, 10 }, { 130, 29 }, { 80, 30 } },
	    3, 0, { { 0, 0, 0, 0 } } },
	{ "within the tolerance", 0, 0, false,
	    { { 80, 10 }, { 124, 60 }, { 80, 30 } }, 3, 0,
	    { { 0, 0, 0, 0 } } },
	{ "just above the tolerance", 0, 0, false,
	    { { 80, 10 }, { 126, 60 }, { 80, 30 } }, 3, 1,
	    { { 1, 2, 120, 126 } } },
	{ "a dip shorter than reset_s", 0, 0, false,
	    { { 80, 10 }, { 130, 40 }, { 80, 5 }, { 140, 40 }, { 80, 30 } },
	    5, 1, { { 1, 4, 120, 140 } } },
	{ "a dip of reset_s", 0, 0, false,
	    { { 80, 10 }, { 130, 40 }, { 80, 15 }, { 140, 40 }, { 80, 30 } },
	    5, 2, { { 1, 2, 120, 130 }, { 3, 4, 120, 140 } } },
	{ "emergency class limit 150, at 130", 1, 150, false,
	    { { 80, 10 }, { 130, 60 }, { 80, 30 } }, 3, 0,
	    { { 0, 0, 0, 0 } } },
	{ "emergency class limit 150, at 160", 1, 150, false,
	    { { 80, 10 }, { 160, 60 }, { 80, 30 } }, 3, 1,
	    { { 1, 2, 150, 160 } } },
	{ "general class limit 100", 0, 100, false,
	    { { 80, 10 }, { 110, 60 }, { 80, 30 } }, 3, 1,
	    { { 1, 2, 100, 110 } } },
	{ "emergency, no class limit: not exempt", 1, 0, false,
	    { { 80, 10 }, { 130, 60 }, { 80, 30 } }, 3, 1,
	    { { 1, 2, 120, 130 } } },
	{ "disabled", 0, 0, true, { { 80, 10 }, { 150, 60 }, { 80, 30 } },
	    3, 0, { { 0, 0, 0, 0 } } },
	/* The trip ends 5 s after the slowdown: ended at the slowdown. */
	{ "trip ends within reset_s", 0, 0, false,
	    { { 80, 10 }, { 130, 40 }, { 80, 5 } }, 3, 1,
	    { { 1, 2, 120, 130 } } },
	{ "trip ends while above", 0, 0, false,
	    { { 80, 10 }, { 130, 40 } }, 2, 1, { { 1, 2, 120, 130 } } },
};

Test(rules, speeding_table)
{
	const struct speed_case	*sc;
	const struct evc	*c;
	int64_t			 leg_t[6];
	size_t			 i, j;

	for (i = 0; i < NELEMS(speed_cases); i++) {
		sc = &speed_cases[i];
		cr_log_info("case %s", sc->name);
		rules_config_default(&h.cfg);
		h.cfg.vehicle_class = sc->vclass;
		h.cfg.speeding.class_limit_kmh[sc->vclass] = sc->class_limit;
		h.cfg.speeding.c.enabled = !sc->disabled;
		restart_at(L(D0, HMS(10, 0, 0)), -7000, 5000, true, true);
		trip_start();
		for (j = 0; j < sc->nlegs; j++) {
			leg_t[j] = h.t + SEC;
			go(sc->legs[j].secs, sc->legs[j].kmh, 90.0);
		}
		leg_t[j] = h.t;			/* the trip's end */
		trip_end();
		cr_assert_eq(h.nev, 2 * sc->nep, "%s:%s", sc->name, dump());
		for (j = 0; j < sc->nep; j++) {
			c = expect_ep(RULES_SPEEDING, j, leg_t[sc->ep[j].from],
			    leg_t[sc->ep[j].to]);
			cr_assert_eq(get(RULES_SPEEDING, RULES_EV_OPEN, j)->at,
			    leg_t[sc->ep[j].from] + 30 * SEC);
			cr_assert_float_eq(dnum(c, "limit_kmh"),
			    sc->ep[j].limit, 1e-6, "%s: %s", sc->name, c->s);
			cr_assert_float_eq(dnum(c, "max_kmh"), sc->ep[j].max,
			    0.05, "%s: %s", sc->name, c->s);
			cr_assert_str_eq(c->e.fence_id, "");
			cr_assert_eq(c->e.severity, RULES_WARNING);
		}
	}
}

/* The school zone's 40 km/h, lower than the global limit. */
Test(rules, speeding_fence_limit)
{
	const struct evc	*c;

	restart_at(L(D0, HMS(10, 0, 0)), -3500, 0, true, true);
	watch("school");
	trip_start();
	go(60, 60.0, 90.0);
	trip_end();
	cr_assert_eq(h.ntrans, 2);
	expect_total(2);
	c = expect_ep(RULES_SPEEDING, 0, h.trans[0], h.trans[1]);
	cr_assert_str_eq(c->e.fence_id, "school");
	cr_assert_str_eq(dstr(c, "fence_name"), "学校");
	cr_assert_float_eq(dnum(c, "limit_kmh"), 40, 1e-6);
	cr_assert_float_eq(dnum(c, "max_kmh"), 60, 0.05);

	/* 44 km/h is within the tolerance. */
	restart_at(L(D0, HMS(10, 0, 0)), -3500, 0, true, true);
	trip_start();
	go(90, 44.0, 90.0);
	trip_end();
	expect_total(0);
}

/* --------------------------------------------------------------- fatigue */

static void
fatigue_config(void)
{
	h.cfg.fatigue_driving.max_drive_s = 2700;	/* 45 min */
	h.cfg.fatigue_driving.min_rest_s = 1200;	/* 20 min */
}

Test(rules, fatigue_short_stop_does_not_reset)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0));

	fatigue_config();
	restart_at(t0, 0, 0, false, false);
	trip_start();
	go(1200, 36.0, 90.0);
	stay(19 * 60);
	go(1200, 36.0, 90.0);		/* to t0 + 3540 s */
	trip_end();
	tick_to(t0 + 4739 * SEC, SEC);
	expect_total(1);
	tick_to(t0 + 5000 * SEC, SEC);
	expect_total(2);
	c = expect_ep(RULES_FATIGUE_DRIVING, 0, t0 + 2701 * SEC,
	    t0 + 3540 * SEC);
	cr_assert_eq(get(RULES_FATIGUE_DRIVING, RULES_EV_OPEN, 0)->at,
	    t0 + 2702 * SEC);
	cr_assert_eq(c->at, t0 + 4740 * SEC);
	cr_assert_eq(dnum(c, "max_drive_s"), 2700);
	cr_assert_eq(dnum(c, "min_rest_s"), 1200);
	cr_assert_eq(dnum(c, "driven_s"), 3539);
	cr_assert_eq(c->e.trip_id, 101);
	cr_assert_eq(c->e.severity, RULES_VIOLATION);
}

Test(rules, fatigue_long_stop_resets)
{
	int64_t	t0 = L(D0, HMS(10, 0, 0));

	fatigue_config();
	restart_at(t0, 0, 0, false, false);
	trip_start();
	go(1200, 36.0, 90.0);
	stay(21 * 60);
	go(2600, 36.0, 90.0);
	trip_end();
	tick_to(t0 + 8000 * SEC, 10 * SEC);
	expect_total(0);
}

/* A rest inside the trip ends it too; the next stretch starts afresh. */
Test(rules, fatigue_rest_within_the_trip)
{
	int64_t	t0 = L(D0, HMS(10, 0, 0));

	fatigue_config();
	restart_at(t0, 0, 0, false, false);
	trip_start();
	go(2800, 36.0, 90.0);
	stay(21 * 60);
	go(600, 36.0, 270.0);
	trip_end();
	expect_total(2);
	expect_ep(RULES_FATIGUE_DRIVING, 0, t0 + 2701 * SEC, t0 + 2800 * SEC);
}

/* The gateway was off during the rest: the next drive closes it. */
Test(rules, fatigue_rest_while_off)
{
	int64_t	t0 = L(D0, HMS(10, 0, 0));

	fatigue_config();
	restart_at(t0, 0, 0, false, false);
	trip_start();
	go(2800, 36.0, 90.0);
	trip_end();
	h.t += 25 * MINUTE;		/* nothing in between */
	trip_start();
	go(600, 36.0, 270.0);
	trip_end();
	expect_total(2);
	expect_ep(RULES_FATIGUE_DRIVING, 0, t0 + 2701 * SEC, t0 + 2800 * SEC);
	cr_assert_eq(rules_open_count(h.r), 0);
}

/* ------------------------------------------------------- excessive idle */

/*
 * The minute a trip stays open after the ignition went off is not use:
 * engine off at 17:31:10, parked fixes for 100 s, the trip closed dated
 * back to 17:31:10: 70 s after work, under min_s, no event.
 */
Test(rules, after_hours_ignores_the_open_trip_after_ignition_off)
{
	int64_t	t_off;

	restart_at(L(D0, HMS(17, 25, 0)), 0, 0, true, false);
	h.obd = true;
	trip_start();
	go(370, 30.0, 90.0);		/* to 17:31:10 */
	t_off = h.t;
	h.engine = false;
	stay(100);
	h.t -= 100 * SEC;
	trip_end();
	h.t += 100 * SEC;
	stay(60);
	expect_total(0);

	/* The same with the engine off at 17:32:30: 150 s, an event. */
	restart_at(L(D0, HMS(17, 25, 0)), 0, 0, true, false);
	h.obd = true;
	trip_start();
	go(450, 30.0, 90.0);
	t_off = h.t;
	h.engine = false;
	stay(100);
	h.t = t_off;
	trip_end();
	h.t += 100 * SEC;
	stay(60);
	expect_total(2);
	expect_ep(RULES_AFTER_HOURS_USE, 0, L(D0, HMS(17, 30, 0)), t_off);
}

Test(rules, excessive_idle)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0)), t_move;

	restart_at(t0, 0, 0, false, false);
	h.obd = true;
	h.engine = true;
	stay(601);			/* from t0 + 1 to t0 + 601 */
	expect_total(1);
	cr_assert_eq(get(RULES_EXCESSIVE_IDLE, RULES_EV_OPEN, 0)->at,
	    t0 + 601 * SEC);
	stay(100);
	t_move = h.t + SEC;
	go(60, 20.0, 90.0);
	expect_total(2);
	c = expect_ep(RULES_EXCESSIVE_IDLE, 0, t0 + SEC, t_move);
	cr_assert_eq(c->at, t_move + 10 * SEC);
	cr_assert_eq(dnum(c, "idle_s"), (t_move - t0 - SEC) / SEC);
	cr_assert_eq(dnum(c, "limit_s"), 600);
	cr_assert_eq(c->e.severity, RULES_WARNING);

	/* Idling 599 s; the engine off after 590 s. */
	restart_at(t0, 0, 0, false, false);
	h.obd = true;
	h.engine = true;
	stay(599);
	go(60, 20.0, 90.0);
	restart_at(t0, 0, 0, false, false);
	h.engine = true;
	stay(590);
	h.engine = false;
	stay(60);
	h.obd = false;
	stay(60);
	expect_total(0);
}

/* ------------------------------------------------------------ fuel drop */

/* Trip one at level before, parked an hour, trip two at level after. */
static void
fuel_run(double before, double after)
{
	h.obd = true;
	h.fuel_pct = before;
	trip_start();
	go(180, 30.0, 90.0);
	trip_end();
	h.engine = false;
	go(30, 0.0, 0.0);		/* the adapter still answers */
	h.obd = false;
	tick_to(h.t + HOUR, 60 * SEC);
	h.obd = true;
	h.fuel_pct = after;
	trip_start();
	go(120, 30.0, 270.0);
	trip_end();
}

Test(rules, fuel_drop_table)
{
	static const struct {
		double	 before, after;
		double	 tank_l, min_drop_pct, min_drop_l;
		bool	 event;
	} cases[] = {
		{ 60, 50, NAN, 5, 0, true },
		{ 60, 55, NAN, 5, 0, true },	/* exactly min_drop_pct */
		{ 60, 59, NAN, 5, 0, false },
		{ 60, 80, NAN, 5, 0, false },	/* refuelled */
		{ 60, 56, 60, 50, 2, true },	/* 2.4 l */
		{ 60, 57, 60, 50, 2, false },	/* 1.8 l */
		{ 60, 56, NAN, 50, 2, false },	/* litres unknown */
	};
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0)), parked, started;
	double			 lat, lon;
	size_t			 i;

	for (i = 0; i < NELEMS(cases); i++) {
		h.cfg.fuel_drop.tank_l = cases[i].tank_l;
		h.cfg.fuel_drop.min_drop_pct = cases[i].min_drop_pct;
		h.cfg.fuel_drop.min_drop_l = cases[i].min_drop_l;
		restart_at(t0, 0, 0, false, false);
		parked = t0 + 180 * SEC;
		started = parked + 30 * SEC + HOUR;
		fuel_run(cases[i].before, cases[i].after);
		if (!cases[i].event) {
			expect_total(0);
			continue;
		}
		expect_total(1);
		c = expect_instant(RULES_FUEL_DROP, 0, parked, started);
		cr_assert_float_eq(dnum(c, "level_before_pct"),
		    cases[i].before, 1e-9);
		cr_assert_float_eq(dnum(c, "level_after_pct"), cases[i].after,
		    1e-9);
		cr_assert_float_eq(dnum(c, "drop_pct"),
		    cases[i].before - cases[i].after, 1e-9);
		if (isfinite(cases[i].tank_l))
			cr_assert_float_eq(dnum(c, "drop_l"), (cases[i].before -
			    cases[i].after) / 100.0 * cases[i].tank_l, 0.05);
		else
			cr_assert(json_is_null(json_object_get(c->d,
			    "drop_l")));
		/* Where it was parked. */
		xy_ll(1500, 0, &lat, &lon);
		cr_assert_float_eq(c->e.lat_deg, lat, 1e-6);
		cr_assert_float_eq(c->e.lon_deg, lon, 1e-6);
		cr_assert_eq(c->e.trip_id, h.ntrips + 100);	/* trip two */
		cr_assert_eq(c->e.severity, RULES_CRITICAL);
	}
}

/* -------------------------------------------------- GNSS lost, OBD moving */

Test(rules, gnss_lost_while_moving)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0)), last_fix;

	restart_at(t0, 0, 0, false, false);
	h.obd = true;
	trip_start();
	go(60, 50.0, 90.0);
	last_fix = h.t;
	h.gnss = false;
	go(29, 50.0, 90.0);
	expect_total(0);
	go(11, 50.0, 90.0);		/* 40 s without a fix */
	expect_total(1);
	cr_assert_eq(get(RULES_GNSS_LOST_WHILE_MOVING, RULES_EV_OPEN, 0)->at,
	    last_fix + 30 * SEC);
	h.gnss = true;
	go(30, 50.0, 90.0);
	trip_end();
	expect_total(2);
	c = expect_ep(RULES_GNSS_LOST_WHILE_MOVING, 0, last_fix,
	    last_fix + 41 * SEC);
	cr_assert_eq(c->at, last_fix + 41 * SEC);
	cr_assert_float_eq(dnum(c, "max_obd_speed_kmh"), 50, 0.05);
	/* OBD distance while it was known to be lost (37 s here). */
	cr_assert(dnum(c, "obd_distance_m") > 400 &&
	    dnum(c, "obd_distance_m") <= 41 * 50 / 3.6 + 1, "%s", c->s);
	cr_assert_eq(c->e.severity, RULES_CRITICAL);
	cr_assert_eq(c->e.trip_id, 101);

	/* 25 s without a fix, or stopped without one: nothing. */
	restart_at(t0, 0, 0, false, false);
	h.obd = true;
	trip_start();
	go(60, 50.0, 90.0);
	h.gnss = false;
	go(25, 50.0, 90.0);
	h.gnss = true;
	go(30, 50.0, 90.0);
	h.gnss = false;
	stay(120);
	h.gnss = true;
	trip_end();
	expect_total(0);
}

/* ---------------------------------------------------------- position jump */

Test(rules, position_jump)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0));
	double			 lat, lon, plat, plon;

	restart_at(t0, 0, 0, false, false);
	trip_start();
	stay(1);
	xy_ll(0, 0, &plat, &plon);
	h.t += 20 * SEC;
	h.x = 10000;
	feed_fix(0.0);
	xy_ll(10000, 0, &lat, &lon);
	expect_total(1);
	c = expect_instant(RULES_POSITION_JUMP, 0, t0 + SEC, t0 + 21 * SEC);
	cr_assert_float_eq(c->e.lat_deg, lat, 1e-7);
	cr_assert_float_eq(c->e.lon_deg, lon, 1e-7);
	cr_assert_float_eq(dnum(c, "distance_m"), 10000, 2);
	cr_assert_float_eq(dnum(c, "gap_s"), 20, 1e-9);
	cr_assert_float_eq(dnum(c, "implied_kmh"), 1800, 0.5);
	cr_assert_float_eq(dnum(c, "from_lat"), plat, 1e-7);
	cr_assert_float_eq(dnum(c, "from_lon"), plon, 1e-7);
	cr_assert_eq(c->e.trip_id, 101);
	cr_assert_eq(c->e.severity, RULES_WARNING);

	/* 10 km in 20 min, 900 m in 1 s: plausible or too short. */
	h.t += 20 * MINUTE;
	h.x = 20000;
	feed_fix(0.0);
	h.t += SEC;
	h.x += 900;
	feed_fix(0.0);
	trip_end();
	expect_total(1);
}

/* ------------------------------------------------------------ power loss */

Test(rules, power_loss)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0));

	restart_at(t0, 0, 0, false, false);
	rules_power_loss(h.r, t0 - 5 * MINUTE, t0, true);
	expect_total(1);
	c = expect_instant(RULES_POWER_LOSS, 0, t0 - 5 * MINUTE, t0);
	cr_assert_eq(dnum(c, "gap_s"), 300);
	cr_assert(json_is_true(json_object_get(c->d, "in_trip")));
	cr_assert_eq(c->e.severity, RULES_WARNING);
	cr_assert_eq(c->e.id, 1);

	/* The last record unknown: the gap is nothing. */
	rules_power_loss(h.r, 0, t0 + SEC, false);
	expect_total(2);
	c = expect_instant(RULES_POWER_LOSS, 1, t0 + SEC, t0 + SEC);
	cr_assert_eq(dnum(c, "gap_s"), 0);
	cr_assert(json_is_false(json_object_get(c->d, "in_trip")));
	cr_assert_eq(c->e.id, 2);
}

/* The daemon's own event: storage_pressure, an instant with the next id. */
Test(rules, raise_storage_pressure)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0));

	restart_at(t0, 0, 0, false, false);
	rules_power_loss(h.r, t0 - 5 * MINUTE, t0, false);
	rules_raise(h.r, RULES_STORAGE_PRESSURE, t0 + SEC, json_pack(
	    "{s:{s:{s:i}}}", "unsent_deleted", "positions", "records", 500));
	/* Not a type the daemon may raise: nothing. */
	rules_raise(h.r, RULES_SPEEDING, t0 + SEC, json_object());
	expect_total(2);
	c = expect_instant(RULES_STORAGE_PRESSURE, 0, t0 + SEC, t0 + SEC);
	cr_assert_eq(c->e.id, 2);
	cr_assert_eq(c->e.severity, RULES_WARNING);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(c->d, "unsent_deleted"), "positions"), "records")),
	    500);
}

/*
 * The inspection events: whatever the rules config says, with the
 * type's severity or the one asked for.
 */
Test(rules, raise_inspection)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0));

	restart_at(t0, 0, 0, false, false);
	rules_raise(h.r, RULES_INSPECTION_EXPORT, t0 + SEC, json_pack(
	    "{s:s}", "via", "daemon"));
	rules_raise_severity(h.r, RULES_INSPECTION, RULES_WARNING,
	    t0 + 2 * SEC, json_pack("{s:s}", "result", "warn"));
	rules_raise_severity(h.r, RULES_INSPECTION, (enum rules_severity)9,
	    t0 + 3 * SEC, NULL);
	rules_raise_severity(h.r, RULES_TYPE_COUNT, RULES_INFO, t0, NULL);
	expect_total(3);
	c = expect_instant(RULES_INSPECTION_EXPORT, 0, t0 + SEC, t0 + SEC);
	cr_assert_eq(c->e.severity, RULES_INFO);
	cr_assert_str_eq(json_string_value(json_object_get(c->d, "via")),
	    "daemon");
	c = expect_instant(RULES_INSPECTION, 0, t0 + 2 * SEC, t0 + 2 * SEC);
	cr_assert_eq(c->e.severity, RULES_WARNING);
	c = expect_instant(RULES_INSPECTION, 1, t0 + 3 * SEC, t0 + 3 * SEC);
	cr_assert_eq(c->e.severity, RULES_INFO);
}

/* ---------------------------------------------------------------- OBD lost */

Test(rules, obd_lost)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0)), down;

	restart_at(t0, 0, 0, false, false);
	h.obd = true;
	rules_on_obd_link(h.r, true, h.t);
	trip_start();
	go(60, 40.0, 90.0);
	down = h.t;
	rules_on_obd_link(h.r, false, down);
	h.obd = false;
	go(59, 40.0, 90.0);
	expect_total(0);
	go(41, 40.0, 90.0);
	rules_on_obd_link(h.r, true, h.t);
	h.obd = true;
	go(30, 40.0, 90.0);
	trip_end();
	expect_total(2);
	c = expect_ep(RULES_OBD_LOST, 0, down, down + 100 * SEC);
	cr_assert_eq(get(RULES_OBD_LOST, RULES_EV_OPEN, 0)->at,
	    down + 60 * SEC);
	cr_assert_eq(c->e.severity, RULES_WARNING);
	cr_assert_eq(c->e.trip_id, 101);

	/* A 30 s outage, and the link down while parked: nothing. */
	restart_at(t0, 0, 0, false, false);
	rules_on_obd_link(h.r, true, h.t);
	trip_start();
	go(60, 40.0, 90.0);
	rules_on_obd_link(h.r, false, h.t);
	go(30, 40.0, 90.0);
	rules_on_obd_link(h.r, true, h.t);
	go(30, 40.0, 90.0);
	trip_end();
	rules_on_obd_link(h.r, false, h.t);
	tick_to(h.t + 10 * MINUTE, SEC);
	expect_total(0);

	/* Down to the trip's end: closed there. */
	restart_at(t0, 0, 0, false, false);
	rules_on_obd_link(h.r, true, h.t);
	trip_start();
	go(10, 40.0, 90.0);
	down = h.t;
	rules_on_obd_link(h.r, false, h.t);
	go(90, 40.0, 90.0);
	trip_end();
	expect_total(2);
	expect_ep(RULES_OBD_LOST, 0, down, down + 90 * SEC);
}

/* -------------------------------------------------------------------- dtc */

static void
scan(const char *const *codes, size_t n)
{
	struct obd_dtc	d[8];
	size_t		i;

	cr_assert_leq(n, NELEMS(d));
	for (i = 0; i < n; i++) {
		snprintf(d[i].code, sizeof(d[i].code), "%s", codes[i]);
		d[i].mode = 0x03;
	}
	h.t += MINUTE;
	rules_on_dtcs(h.r, d, n, h.t);
}

static void
expect_dtc_new(size_t nth, const char *news, const char *active)
{
	const struct evc	*c = get(RULES_DTC, RULES_EV_INSTANT, nth);
	char			*s;

	cr_assert_eq(c->e.start_utc_ms, c->at);
	cr_assert_eq(c->e.end_utc_ms, c->at);
	s = json_dumps(json_object_get(c->d, "new"), JSON_COMPACT);
	cr_assert_str_eq(s, news);
	free(s);
	s = json_dumps(json_object_get(c->d, "active"), JSON_COMPACT);
	cr_assert_str_eq(s, active);
	free(s);
	cr_assert_eq(c->e.severity, RULES_WARNING);
}

Test(rules, dtc_new_codes_and_mil)
{
	static const char *const p0301[] = { "P0301" };
	static const char *const both[] = { "P0301", "P0420" };
	const struct evc	*c;

	restart_at(L(D0, HMS(10, 0, 0)), 0, 0, false, false);
	scan(p0301, 1);
	expect_total(1);
	expect_dtc_new(0, "[{\"code\":\"P0301\",\"mode\":3}]", "[\"P0301\"]");
	scan(p0301, 1);			/* the same: nothing */
	expect_total(1);
	scan(both, 2);
	expect_total(2);
	expect_dtc_new(1, "[{\"code\":\"P0420\",\"mode\":3}]",
	    "[\"P0301\",\"P0420\"]");
	scan(NULL, 0);			/* cleared */
	expect_total(2);
	scan(p0301, 1);			/* back */
	expect_total(3);
	expect_dtc_new(2, "[{\"code\":\"P0301\",\"mode\":3}]", "[\"P0301\"]");

	/* MIL: unknown -> on says nothing, off -> on does. */
	h.obd = true;
	h.engine = true;
	h.mil = 1;
	stay(5);
	h.mil = 0;
	stay(5);
	expect_total(3);
	h.mil = 1;
	stay(1);
	expect_total(4);
	c = get(RULES_DTC, RULES_EV_INSTANT, 3);
	cr_assert_eq(c->e.start_utc_ms, h.t);
	cr_assert(json_is_true(json_object_get(c->d, "mil_on")));
	stay(5);
	h.mil = -1;			/* not read: no change */
	stay(5);
	h.mil = 1;
	stay(5);
	expect_total(4);
	h.mil = 0;
	stay(5);
	h.mil = 1;
	stay(5);
	expect_total(5);
}

/* -------------------------------------------------------------- clock jump */

Test(rules, clock_jump)
{
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0));
	int			 i;

	restart_at(t0, 0, 0, false, false);
	rules_on_clock(h.r, t0, t0 + 200 * SEC);	/* within 300 s */
	expect_total(0);
	h.t = t0 + 10 * SEC;
	rules_on_clock(h.r, h.t, h.t + 400 * SEC);
	expect_total(1);
	c = get(RULES_CLOCK_JUMP, RULES_EV_OPEN, 0);
	cr_assert_eq(c->e.start_utc_ms, t0 + 10 * SEC);
	cr_assert_float_eq(dnum(c, "offset_s"), 400, 1e-9, "%s", c->s);
	/* Worse, then good but briefly bad again within 60 s. */
	h.t += 10 * SEC;
	rules_on_clock(h.r, h.t, h.t - 900 * SEC);
	h.t += 10 * SEC;
	rules_on_clock(h.r, h.t, h.t + 2 * SEC);
	h.t += 30 * SEC;
	rules_on_clock(h.r, h.t, h.t + 500 * SEC);
	for (i = 0; i < 12; i++) {	/* good every 10 s from t0 + 70 s */
		h.t += 10 * SEC;
		rules_on_clock(h.r, h.t, h.t + SEC);
	}
	expect_total(2);
	c = expect_ep(RULES_CLOCK_JUMP, 0, t0 + 10 * SEC, t0 + 70 * SEC);
	cr_assert_eq(c->at, t0 + 130 * SEC);
	cr_assert_float_eq(dnum(c, "offset_s"), -900, 1e-9, "%s", c->s);
	cr_assert_eq(c->e.severity, RULES_WARNING);
}

/* ---------------------------------------------------- classes, switches */

/* Emergency class: no after-hours, holiday, commute; speeding still. */
Test(rules, emergency_vehicle_exemptions)
{
	/* 国庆节, 07:30: a commute run, then 150 km/h north for 60 s. */
	h.cfg.vehicle_class = 1;
	restart_at(L(2026, 10, 2, HMS(7, 30, 0)), 0, 0, true, true);
	trip_start();
	commute_run(L(2026, 10, 2, HMS(7, 30, 0)), 120);
	go(60, 150.0, 0.0);
	go(30, 60.0, 0.0);
	trip_end();
	expect_total(2);
	expect_ep(RULES_SPEEDING, 0, L(2026, 10, 2, HMS(7, 30, 0)) +
	    (10 + 300 + 120 + 300 + 30 + 1) * SEC,
	    L(2026, 10, 2, HMS(7, 30, 0)) +
	    (10 + 300 + 120 + 300 + 30 + 61) * SEC);
	/* A workday evening. */
	restart_at(L(2026, 10, 8, HMS(20, 0, 0)), -1000, -1000, true, true);
	trip_start();
	go(600, 36.0, 90.0);
	trip_end();
	expect_total(0);

	/* The same as a general vehicle. */
	h.cfg.vehicle_class = 0;
	restart_at(L(2026, 10, 2, HMS(7, 30, 0)), 0, 0, true, true);
	trip_start();
	commute_run(L(2026, 10, 2, HMS(7, 30, 0)), 120);
	go(60, 150.0, 0.0);
	go(30, 60.0, 0.0);
	trip_end();
	cr_assert_eq(count(RULES_COMMUTE_PATTERN, RULES_EV_INSTANT), 1);
	cr_assert_eq(count(RULES_HOLIDAY_USE, RULES_EV_CLOSE), 1);
	cr_assert_eq(count(RULES_SPEEDING, RULES_EV_CLOSE), 1);
	expect_total(5);
}

/* A disabled rule, a rule exempting the general class. */
Test(rules, disabled_and_exempt_rules)
{
	h.cfg.after_hours_use.c.enabled = false;
	h.cfg.speeding.c.exempt_classes = 1u << 0;
	restart_at(L(D0, HMS(20, 0, 0)), -1000, -1000, true, false);
	trip_start();
	go(600, 36.0, 90.0);
	go(60, 150.0, 90.0);
	go(30, 36.0, 90.0);
	trip_end();
	rules_power_loss(h.r, h.t, h.t + SEC, false);
	expect_total(1);
	get(RULES_POWER_LOSS, RULES_EV_INSTANT, 0);

	/* Enabled again by a reload: reported from then on. */
	rules_config_default(&h.cfg);
	rules_set_config(h.r, &h.cfg);
	h.t += MINUTE;
	trip_start();
	go(600, 36.0, 90.0);
	trip_end();
	expect_total(3);
	cr_assert_eq(count(RULES_AFTER_HOURS_USE, RULES_EV_CLOSE), 1);
}

/* --------------------------------------------------------------- restarts */

/* Mid-episode: the same id closes after the restart, no second OPEN. */
Test(rules, restart_continues_the_episode)
{
	const struct evc	*c;

	restart_at(L(D0, HMS(19, 0, 0)), -1000, -1000, true, false);
	trip_start();
	go(600, 36.0, 90.0);
	expect_total(1);
	cr_assert_eq(h.ev[0].e.id, 1);
	restart_engine(NULL, 0, true, false);
	cr_assert_eq(rules_open_count(h.r), 1);
	h.t += 5 * SEC;
	go(600, 36.0, 90.0);
	trip_end();
	expect_total(2);
	c = expect_ep(AH, 0, L(D0, HMS(19, 0, 0)), L(D0, HMS(19, 20, 5)));
	cr_assert_eq(c->e.id, 1);
	cr_assert_eq(c->e.trip_id, 101);
	cr_assert_float_eq(dnum(c, "distance_m"), 12000, 20, "%s", c->s);
	/* The counter went on: the next event is 2. */
	rules_power_loss(h.r, h.t, h.t + SEC, false);
	cr_assert_eq(h.ev[2].e.id, 2);
}

/* Restored, and the condition is false: closed at its last sight. */
Test(rules, restart_then_false_closes_at_last_true)
{
	int64_t	t_last;

	restart_at(L(D0, HMS(10, 0, 0)), -7000, 5000, true, true);
	trip_start();
	go(10, 80.0, 90.0);
	go(40, 130.0, 90.0);
	t_last = h.t;
	expect_total(1);
	restart_engine(NULL, 0, true, true);
	h.t += 5 * SEC;
	go(30, 80.0, 90.0);
	trip_end();
	expect_total(2);
	expect_ep(RULES_SPEEDING, 0, t_last - 39 * SEC, t_last);
	cr_assert_eq(rules_open_count(h.r), 0);

	/* Parked in the KTV over a restart, gone when it is back. */
	restart_at(L(D0, HMS(10, 0, 0)), 3000, 0, true, true);
	trip_start();
	stay(400);
	trip_end();
	t_last = h.t;
	restart_engine(NULL, 0, true, true);
	h.t += 10 * SEC;
	h.x = 3500;
	stay(120);
	expect_total(2);
	expect_ep(RULES_FORBIDDEN_PLACE, 0, t_last - 399 * SEC, t_last);
}

/* Accumulators survive: dwell, fatigue, parking, codes, fuel, orders. */
Test(rules, restart_keeps_accumulators)
{
	static const char *const p0301[] = { "P0301" };
	struct rules_order	 o;
	int64_t			 t_in, t0;

	/* 100 s in the scenic spot, restart, 250 s more. */
	restart_at(L(D0, HMS(10, 0, 0)), 3000, -2000, true, true);
	trip_start();
	stay(1);
	t_in = h.t;
	stay(100);
	restart_engine(NULL, 0, true, true);
	h.t += 5 * SEC;
	stay(250);
	h.x = 3300;
	stay(90);
	trip_end();
	expect_total(2);
	expect_ep(RULES_FORBIDDEN_PLACE, 0, t_in, t_in + 356 * SEC);
	cr_assert_eq(get(RULES_FORBIDDEN_PLACE, RULES_EV_OPEN, 0)->at,
	    t_in + 300 * SEC);

	/* Driven 30 min, restart, 20 min more: 45 min from the start. */
	fatigue_config();
	t0 = L(D0, HMS(10, 0, 0));
	restart_at(t0, 0, 0, false, false);
	trip_start();
	go(1800, 36.0, 90.0);
	restart_engine(NULL, 0, false, false);
	h.t += 3 * SEC;
	go(1200, 36.0, 270.0);
	trip_end();
	expect_total(1);
	expect_ep(RULES_FATIGUE_DRIVING, 0, t0 + 2701 * SEC, -1);

	/* Overnight: open at 22:00, restart at 23:00, closed at 06:00. */
	restart_at(L(D0, HMS(20, 0, 0)), 0, 0, false, true);
	park_outside_at(L(D0, HMS(21, 0, 0)));
	tick_to(L(D0, HMS(23, 0, 0)), 60 * SEC);
	restart_engine(NULL, 0, false, true);
	tick_to(L(D1, HMS(7, 0, 0)), 60 * SEC);
	expect_total(2);
	expect_ep(RULES_OVERNIGHT_PARKING, 0, L(D0, HMS(22, 0, 0)),
	    L(D1, HMS(6, 0, 0)));

	/* Known trouble codes. */
	restart_at(L(D0, HMS(10, 0, 0)), 0, 0, false, false);
	scan(p0301, 1);
	restart_engine(NULL, 0, false, false);
	scan(p0301, 1);
	expect_total(1);

	/* The level the car was parked with. */
	restart_at(L(D0, HMS(10, 0, 0)), 0, 0, false, false);
	h.obd = true;
	h.fuel_pct = 60;
	trip_start();
	go(180, 30.0, 90.0);
	trip_end();
	h.obd = false;
	restart_engine(NULL, 0, false, false);
	h.t += HOUR;
	h.obd = true;
	h.fuel_pct = 50;
	trip_start();
	go(60, 30.0, 90.0);
	trip_end();
	expect_total(1);
	expect_instant(RULES_FUEL_DROP, 0, L(D0, HMS(10, 3, 0)),
	    L(D0, HMS(11, 3, 0)));
	h.obd = false;

	/* An order used before the restart, its destination never reached. */
	restart_at(L(D0, HMS(9, 10, 0)), -1000, -1000, true, true);
	o = order("o-r", L(D0, HMS(9, 0, 0)), L(D0, HMS(10, 0, 0)));
	snprintf(o.dest_fence, sizeof(o.dest_fence), "hospital");
	rules_set_orders(h.r, &o, 1);
	trip_start();
	go(600, 36.0, 90.0);
	trip_end();
	restart_engine(&o, 1, true, true);
	tick_to(L(D0, HMS(10, 30, 0)), SEC);
	expect_total(1);
	expect_instant(RULES_DISPATCH_MISMATCH, 0, L(D0, HMS(9, 10, 1)),
	    L(D0, HMS(10, 0, 0)));

	/* A commute run with a restart during the stop. */
	restart_at(0, 0, 0, false, true);
	h.t = L(D0, HMS(7, 30, 0));
	h.x = -5;
	watch("office");
	stay(10);
	go(300, 36.0, 180.0);
	stay(60);
	restart_engine(NULL, 0, false, true);
	h.t += 5 * SEC;
	stay(55);
	go(300, 36.0, 0.0);
	stay(30);
	expect_total(1);
	expect_instant(RULES_COMMUTE_PATTERN, 0, h.trans[0], h.trans[1]);
}

/* The counter is restored: ids are never reused. */
Test(rules, restart_never_reuses_ids)
{
	json_t	*st;
	int	 i;

	restart_at(L(D0, HMS(10, 0, 0)), 0, 0, false, false);
	for (i = 0; i < 3; i++)
		rules_power_loss(h.r, h.t, h.t, false);
	restart_engine(NULL, 0, false, false);
	rules_power_loss(h.r, h.t, h.t, false);
	cr_assert_eq(h.ev[3].e.id, 4);

	/* A state from a run that went further. */
	st = rules_save(h.r);
	json_object_set_new(st, "next_id", json_integer(1000));
	json_object_set_new(st, "a_member_from_the_future", json_true());
	engine(false, false);
	cr_assert_eq(rules_restore(h.r, st), 0);
	json_decref(st);
	rules_power_loss(h.r, h.t, h.t, false);
	cr_assert_eq(h.ev[4].e.id, 1000);
}

/* A bad state is refused and changes nothing. */
Test(rules, restore_rejects_bad_states)
{
	static const char *const bad[] = {
		"1", "[]", "{}", "{\"version\": 2, \"next_id\": 5}",
		"{\"version\": 1, \"next_id\": 0}",
		"{\"version\": 1, \"next_id\": \"5\"}",
		"{\"version\": 1}",
	};
	json_t	*st;
	size_t	 i;

	restart_at(L(D0, HMS(19, 0, 0)), -1000, -1000, true, false);
	trip_start();
	go(600, 36.0, 90.0);
	expect_total(1);
	for (i = 0; i < NELEMS(bad); i++) {
		st = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		cr_assert_not_null(st, "%s", bad[i]);
		cr_assert_eq(rules_restore(h.r, st), -1, "%s", bad[i]);
		json_decref(st);
	}
	cr_assert_eq(rules_open_count(h.r), 1);
	go(60, 36.0, 90.0);
	trip_end();
	expect_total(2);
	expect_ep(AH, 0, L(D0, HMS(19, 0, 0)), L(D0, HMS(19, 11, 0)));
	rules_power_loss(h.r, h.t, h.t, false);
	cr_assert_eq(h.ev[2].e.id, 2);
}

/*
 * The database is a trust boundary: a state holding values the engine
 * could not have saved (times outside 0..2100 or after its own "now",
 * ids out of the counter's range or open twice, negative counters,
 * strings longer than their fields) is refused and changes nothing,
 * instead of overflowing the engine's time arithmetic (found by
 * fuzz_rules: "now" and "since" near INT64_MAX/MIN).
 */
Test(rules, restore_rejects_out_of_range_values)
{
	static const struct {
		const char	*path;	/* member: a/b or a/b/c */
		const char	*value;	/* JSON */
	} bad[] = {
		{ "now", "9223372036854775807" },
		{ "now", "-1" },
		{ "now", "4102444800001" },
		{ "next_id", "9007199254740993" },
		{ "next_id", "1" },	/* the open episode is #1 */
		{ "trip/start", "-9223372036854775808" },
		{ "trip/start", "9223372036854775807" },
		{ "trip/id", "-1" },
		{ "fix/t", "-5" },
		{ "episodes/after_hours_use/since", "-9223372036854775808" },
		{ "episodes/after_hours_use/last_true", "9223372036854775807" },
		{ "episodes/after_hours_use/false", "-1" },
		{ "episodes/after_hours_use/cand", "true" },
		{ "episodes/after_hours_use/trip", "-2" },
		{ "episodes/clock_jump", "{\"open\": true, \"id\": 1}" },
		{ "episodes/after_hours_use/fence",
		  "\"0123456789012345678901234567890123456789012345678901234567"
		  "89abcdef\"" },
		{ "fatigue/drive", "9223372036854775807" },
		{ "fatigue/rest", "-9223372036854775807" },
		{ "park/t", "9223372036854775807" },
		{ "commute/out_t", "-1" },
		{ "commute/stop_t", "9223372036854775807" },
		{ "commute/stops", "2147483647" },
		{ "commute/stops", "-1" },
		{ "commute/best_s", "-1" },
		{ "night_checked", "4294967296" },
		{ "mil_on", "7" },
		{ "dtc", "[\"P0301X\"]" },
		{ "orders", "[{\"id\": \"o-1\", \"used\": true, "
		  "\"first_use\": -1}]" },
	};
	json_t		*good, *st, *parent, *v;
	char		 path[64], *key, *slash, *before, *after;
	size_t		 i;

	restart_at(L(D0, HMS(19, 0, 0)), -1000, -1000, true, false);
	trip_start();
	go(600, 36.0, 90.0);
	expect_total(1);
	good = rules_save(h.r);
	for (i = 0; i < NELEMS(bad); i++) {
		st = json_deep_copy(good);
		snprintf(path, sizeof(path), "%s", bad[i].path);
		parent = st;
		for (key = path; (slash = strchr(key, '/')) != NULL;
		    key = slash + 1) {
			*slash = '\0';
			parent = json_object_get(parent, key);
			cr_assert(json_is_object(parent), "%s", bad[i].path);
		}
		v = json_loads(bad[i].value, JSON_DECODE_ANY, NULL);
		cr_assert_not_null(v, "%s", bad[i].value);
		json_object_set_new(parent, key, v);
		before = json_dumps(good, JSON_SORT_KEYS);
		cr_assert_eq(rules_restore(h.r, st), -1, "%s = %s",
		    bad[i].path, bad[i].value);
		json_decref(st);
		st = rules_save(h.r);
		after = json_dumps(st, JSON_SORT_KEYS);
		cr_assert_str_eq(after, before, "%s = %s changed the engine",
		    bad[i].path, bad[i].value);
		free(before);
		free(after);
		json_decref(st);
	}
	/* The state itself is fine, and the episode goes on. */
	cr_assert_eq(rules_restore(h.r, good), 0);
	json_decref(good);
	go(60, 36.0, 90.0);
	trip_end();
	expect_total(2);
	expect_ep(AH, 0, L(D0, HMS(19, 0, 0)), L(D0, HMS(19, 11, 0)));
}

/*
 * The numbers an episode carries for its details are clamped to +-1e15
 * on restore: some become integers (dwell_limit_s, driven_s, the clock
 * offset), and 1e300 would not fit (UBSan, found by fuzz_rules).
 */
Test(rules, restore_clamps_episode_numbers)
{
	const struct evc	*c;
	json_t			*st, *a;

	restart_at(L(2026, 3, 3, HMS(10, 0, 0)), 3000, 0, true, true);
	trip_start();
	stay(200);
	expect_total(1);
	st = rules_save(h.r);
	a = json_object_get(json_array_get(json_object_get(st, "forbidden"),
	    0), "a");
	cr_assert(json_is_array(a));
	json_array_set_new(a, 0, json_real(1e300));
	engine(true, true);
	cr_assert_eq(rules_restore(h.r, st), 0);
	json_decref(st);
	/* Back 10 min later, elsewhere: it ended at its last sight. */
	h.t += 10 * MINUTE;
	h.x = 0;
	stay(1);
	trip_end();
	expect_total(2);
	c = expect_ep(RULES_FORBIDDEN_PLACE, 0, L(2026, 3, 3, HMS(10, 0, 1)),
	    L(2026, 3, 3, HMS(10, 3, 20)));
	cr_assert_eq(dnum(c, "dwell_limit_s"), 1e15, "%s", c->s);
	cr_assert_eq(dnum(c, "stay_s"), 199, "%s", c->s);
}

/*
 * Saved with the same clamp: a distance restored at the limit that
 * grows on saves at the limit, so a restart saves what it restored
 * (fuzz_rules: 1e15 + 400 m became 1e15 at the next restart).
 */
Test(rules, save_clamps_episode_numbers_too)
{
	json_t	*st, *st2;
	char	*a, *b;

	restart_at(L(D0, HMS(19, 0, 0)), -1000, -1000, true, false);
	trip_start();
	go(600, 36.0, 90.0);
	expect_total(1);
	st = rules_save(h.r);
	json_array_set_new(json_object_get(json_object_get(json_object_get(st,
	    "episodes"), "after_hours_use"), "a"), 0, json_real(1e300));
	engine(true, false);
	cr_assert_eq(rules_restore(h.r, st), 0);
	json_decref(st);
	go(60, 36.0, 90.0);
	st = rules_save(h.r);
	cr_assert_eq(json_real_value(json_array_get(json_object_get(
	    json_object_get(json_object_get(st, "episodes"), "after_hours_use"),
	    "a"), 0)), 1e15);
	engine(true, false);
	cr_assert_eq(rules_restore(h.r, st), 0);
	st2 = rules_save(h.r);
	a = json_dumps(st, JSON_SORT_KEYS);
	b = json_dumps(st2, JSON_SORT_KEYS);
	cr_assert_str_eq(b, a);
	free(a);
	free(b);
	json_decref(st);
	json_decref(st2);
}

/* ---------------------------------------------------- bad and missing input */

Test(rules, non_finite_inputs_are_ignored)
{
	struct fix		 f;
	struct obd_sample	 s;
	const struct evc	*c;
	int64_t			 t0 = L(D0, HMS(10, 0, 0));
	int			 i;

	restart_at(t0, 0, 0, true, false);
	trip_start();
	stay(1);
	/* Non-finite positions and empty OBD samples, an hour ahead. */
	memset(&f, 0, sizeof(f));
	f.t_utc_ms = t0 + HOUR;
	f.lat_deg = NAN;
	f.lon_deg = LON0;
	f.speed_mps = 100;
	rules_on_fix(h.r, &f);
	f.lat_deg = LAT0;
	f.lon_deg = INFINITY;
	rules_on_fix(h.r, &f);
	f.lon_deg = -INFINITY;
	rules_on_fix(h.r, &f);
	record_obd_clear(&s);
	rules_on_obd(h.r, &s, t0 + HOUR);
	rules_on_obd(h.r, NULL, t0 + HOUR);
	/* So 10 km in 20 s from the last good fix is still a jump. */
	h.t = t0 + 21 * SEC;
	h.x = 10000;
	feed_fix(0.0);
	expect_total(1);
	c = expect_instant(RULES_POSITION_JUMP, 0, t0 + SEC, t0 + 21 * SEC);
	cr_assert_float_eq(dnum(c, "gap_s"), 20, 1e-9);

	/* Speed unknown at 150 km/h: no speeding. */
	memset(&f, 0, sizeof(f));
	for (i = 0; i < 60; i++) {
		h.t += SEC;
		h.x += 150 / 3.6;
		f.t_utc_ms = h.t;
		xy_ll(h.x, h.y, &f.lat_deg, &f.lon_deg);
		f.speed_mps = NAN;
		f.alt_m = f.heading_deg = f.hdop = f.eph_m = NAN;
		rules_on_fix(h.r, &f);
	}
	/* Engine on, speed and fuel unknown: no idle, no loss of GNSS. */
	h.gnss = false;
	for (i = 0; i < 900; i++) {
		h.t += SEC;
		record_obd_clear(&s);
		s.rpm = 800;
		rules_on_obd(h.r, &s, h.t);
	}
	trip_end();
	h.gnss = true;
	expect_total(1);
}

/*
 * An input older than the engine's time (a late fix after a tick) is
 * taken at the engine's time, not dropped.
 */
Test(rules, late_input_is_taken_at_the_engine_time)
{
	int64_t	t0 = L(D0, HMS(10, 0, 0));

	restart_at(t0, 0, 0, false, false);
	stay(1);
	rules_tick(h.r, t0 + 11 * SEC);
	h.t = t0 + 6 * SEC;
	h.x = 10000;
	feed_fix(0.0);
	expect_total(1);
	expect_instant(RULES_POSITION_JUMP, 0, t0 + SEC, t0 + 11 * SEC);
}

/* No calendar, no fences, no local time: their rules stay quiet. */
Test(rules, missing_calendar_fences_or_local_time)
{
	struct rules_order	o;
	int			pass;

	for (pass = 0; pass < 2; pass++) {
		/* Pass 0: no calendar, no fences.  1: no local time. */
		restart_at(L(2026, 10, 2, HMS(7, 30, 0)), -5, 0, pass == 1,
		    pass == 1);
		h.lt_fail = pass == 1;
		o = order("o-x", L(2026, 10, 2, HMS(7, 0, 0)),
		    L(2026, 10, 2, HMS(9, 0, 0)));
		snprintf(o.dest_fence, sizeof(o.dest_fence), "hospital");
		snprintf(o.corridor_fence, sizeof(o.corridor_fence), "route");
		rules_set_orders(h.r, &o, 1);
		/* A holiday commute run (office hours of nobody). */
		trip_start();
		stay(10);
		go(300, 36.0, 180.0);
		stay(120);
		go(300, 36.0, 0.0);
		stay(30);
		/* To the KTV for 10 min, out of the county for 10 min. */
		go(300, 36.0, 90.0);
		stay(600);
		go(600, 36.0, 90.0);
		stay(600);
		trip_end();
		/* Parked out of any lot over the night. */
		tick_to(L(2026, 10, 3, HMS(7, 0, 0)), 60 * SEC);
		h.t = L(2026, 10, 3, HMS(22, 20, 0));
		trip_start();
		go(600, 36.0, 270.0);
		trip_end();
		tick_to(L(2026, 10, 4, HMS(7, 0, 0)), 60 * SEC);
		if (pass == 0)
			expect_total(0);
		/* Without local time, the place rules still work. */
		expect_none(RULES_AFTER_HOURS_USE);
		expect_none(RULES_HOLIDAY_USE);
		expect_none(RULES_OVERNIGHT_PARKING);
		expect_none(RULES_COMMUTE_PATTERN);
		h.lt_fail = false;
	}
}
