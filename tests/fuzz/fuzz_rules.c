/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rules.c - libFuzzer target: the usage rules engine (rules.h) from
 * a saved state (the rules_state text of the database, a trust boundary:
 * a copied, edited or corrupt database must not crash the daemon) and a
 * sequence of inputs.
 *
 * Input: a JSON text up to the first NUL byte, given to rules_restore()
 * on a fresh engine (no NUL: the whole input is the state; a refused
 * state leaves the fresh engine, as main.c starts afresh).  After the
 * NUL, records of REC_LEN bytes:
 *
 *   0     operation (modulo NOPS): fix, obd, obd_link, dtcs, trip_start,
 *         trip_end, clock, power_loss, tick, set_orders, round_trip
 *   1     flags: bits 0-1 the unit of dt (ms, s, min, h), bit 2 the
 *         input is late (up to 255 s before the clock), bits 3-7 the
 *         operation's own
 *   2-3   dt, big-endian: the harness clock moves forward this much
 *   4-11  the operation's values
 *
 * The harness clock starts at 2026-03-03 07:00 +08:00 or at the restored
 * state's "now" if later, and stays inside 2010..2100 (the gnss module's
 * range) and within SPAN_MAX_MS of its start (every night in a jump of
 * time is checked: years of them make a run slow, not better);
 * coordinates, speeds and OBD values may be NaN, infinite or absurd.
 * Trip boundaries keep the order the trip tracker gives them (a start
 * not before the last end, an end not before its start) but may be
 * dated back.  round_trip saves, dumps, loads and restores into a
 * second engine, which carries on.  The engine has the default
 * configuration, a calendar (Monday to Friday 08:30-12:00, 13:30-17:30,
 * a few holidays and an adjusted working Saturday), a small county of
 * fences (region, office, parking, forbidden places, destinations, a
 * corridor), up to four dispatch orders and a fixed UTC+8 local time.
 *
 * Checked besides the sanitizers (a violation aborts), from rules.h:
 *  - every event has a valid type and phase, the type's severity, an
 *    object for details (that json_dumpb() can write) and a terminated
 *    fence id;
 *  - OPEN and INSTANT ids come from the counter: >= 1, strictly
 *    increasing, never one that was open in the restored state;
 *  - OPEN has end 0; a CLOSE closes an id that is open (OPENed in this
 *    run or restored open), with the OPEN's type and start; CLOSE and
 *    INSTANT have end >= start;
 *  - a refused state leaves the engine as it was; rules_save() of any
 *    engine restores (0) after json_dumps()/json_loads() into an engine
 *    with the same orders, and the restored engine saves the same state;
 *  - the open episodes of a saved state are the ones the events left
 *    open, and rules_open_count() counts them.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "calendar.h"
#include "fence.h"
#include "geo.h"
#include "record.h"
#include "rules.h"

#define REC_LEN		12
#define LAT0		30.6598		/* Tianfu Square */
#define LON0		104.0657
#define M_PER_DEG	(GEO_EARTH_RADIUS_M * M_PI / 180.0)
#define SEC		INT64_C(1000)
#define HOUR		(3600 * SEC)
#define CST_S		(8 * 3600)	/* UTC+8, no DST */
#define BASE_MS		INT64_C(1772492400000)	/* 2026-03-03 07:00+08 */
#define TIME_MIN_MS	INT64_C(1262304000000)	/* 2010-01-01 */
#define TIME_MAX_MS	INT64_C(4102444800000)	/* 2100-01-01 */
#define SPAN_MAX_MS	(400 * 24 * HOUR)	/* one run's inputs */
#define MAX_OPEN	128
#define MAX_RESTORED	256
#define NORDERS		4
#define HM(h, m)	((h) * 60 + (m))

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__asan_default_options(void);

/*
 * jansson makes many small allocations, and ASan's quarantine counts only
 * their requested bytes: its default 256 MB held over 450 MB of chunks
 * and a long run reached -rss_limit_mb=512.  ASAN_OPTIONS still wins.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=64";
}

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

enum op {
	OP_FIX,
	OP_OBD,
	OP_OBD_LINK,
	OP_DTCS,
	OP_TRIP_START,
	OP_TRIP_END,
	OP_CLOCK,
	OP_POWER_LOSS,
	OP_TICK,
	OP_SET_ORDERS,
	OP_ROUND_TRIP,
	NOPS
};

struct open_ep {
	uint64_t		 id;
	enum rules_type		 type;
	int64_t			 start;
};

static struct rules_config	 cfg;
static struct calendar		*cal;
static struct fence_set		*fences;
static struct rules_order	 orders[NORDERS];

/* What the events said, for the checks. */
static struct {
	struct open_ep	 open[MAX_OPEN];
	size_t		 nopen;
	uint64_t	 restored[MAX_RESTORED];	/* open at a restore */
	size_t		 nrestored;
	uint64_t	 last_id;	/* last new id */
} ck;

/* ------------------------------------------------------------- setup */

static void
xy_ll(double x, double y, double *lat, double *lon)
{
	*lat = LAT0 + y / M_PER_DEG;
	*lon = LON0 + x / (M_PER_DEG * cos(LAT0 * M_PI / 180.0));
}

static void
fb_begin(struct fence_builder *b, const char *id, enum fence_kind kind,
    const char *cat, double speed, int dwell)
{
	struct fence_spec	sp;
	char			why[256];

	memset(&sp, 0, sizeof(sp));
	sp.id = id;
	sp.name = id;
	sp.kind = kind;
	sp.category = cat;
	sp.crs = GEO_CRS_WGS84;
	sp.speed_limit_kmh = speed;
	sp.dwell_s = dwell;
	if (fence_builder_begin(b, &sp, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_rules: %s: %s\n", id, why);
		abort();
	}
}

static void
fb_end(struct fence_builder *b, int rc, const char *why)
{
	char	why2[256];

	if (rc != 0 || fence_builder_end(b, why2, sizeof(why2)) != 0) {
		fprintf(stderr, "fuzz_rules: fence: %s%s\n", rc != 0 ? why :
		    "", rc != 0 ? "" : why2);
		abort();
	}
}

static void
fb_circle(struct fence_builder *b, double x, double y, double r)
{
	double	lat, lon;
	char	why[256];

	xy_ll(x, y, &lat, &lon);
	fb_end(b, fence_builder_circle(b, lon, lat, r, why, sizeof(why)), why);
}

/* Metres from Tianfu Square, as in tests/unit/test_rules.c. */
static struct fence_set *
county(void)
{
	struct fence_builder	*b = fence_builder_new();
	double			 w, s, e, n, xy[6];
	char			 why[256];

	fb_begin(b, "county", FENCE_REGION, NULL, 0, -1);
	xy_ll(-8000, -8000, &s, &w);
	xy_ll(8000, 8000, &n, &e);
	fb_end(b, fence_builder_rect(b, w, s, e, n, why, sizeof(why)), why);
	fb_begin(b, "office", FENCE_OFFICE, NULL, 0, -1);
	fb_circle(b, 0, 0, 150);
	fb_begin(b, "lot", FENCE_PARKING, NULL, 0, -1);
	fb_circle(b, 0, 2000, 100);
	fb_begin(b, "ktv", FENCE_FORBIDDEN, "entertainment", 0, -1);
	fb_circle(b, 3000, 0, 100);
	fb_begin(b, "golf", FENCE_FORBIDDEN, "golf", 0, 120);
	fb_circle(b, 3000, 2000, 100);
	fb_begin(b, "scenic", FENCE_FORBIDDEN, "scenic", 0, -1);
	fb_circle(b, 3000, -2000, 100);
	fb_begin(b, "school", FENCE_DESTINATION, NULL, 40, -1);
	fb_circle(b, -3000, 0, 300);
	fb_begin(b, "hospital", FENCE_DESTINATION, NULL, 0, -1);
	fb_circle(b, 0, -3000, 100);
	fb_begin(b, "route", FENCE_DESTINATION, NULL, 0, -1);
	xy_ll(0, 0, &xy[1], &xy[0]);
	xy_ll(0, 5000, &xy[3], &xy[2]);
	xy_ll(2000, 6000, &xy[5], &xy[4]);
	fb_end(b, fence_builder_corridor(b, xy, 3, 200, why, sizeof(why)),
	    why);
	return fence_builder_finish(b);
}

static const struct calendar_entry entries[] = {
	{ { 2026, 3, 4 }, true, "测试假日" },
	{ { 2026, 3, 7 }, false, "调休上班" },
	{ { 2026, 4, 4 }, true, "清明节" },
	{ { 2026, 4, 5 }, true, "清明节" },
	{ { 2026, 4, 6 }, true, "清明节" },
	{ { 2026, 10, 1 }, true, "国庆节" },
	{ { 2026, 10, 2 }, true, "国庆节" },
};

static struct calendar *
office_calendar(void)
{
	struct calendar_spec	 spec;
	struct calendar		*c;
	char			 why[256];

	memset(&spec, 0, sizeof(spec));
	spec.workdays = 0x1f;
	spec.periods[0] = (struct calendar_period){ HM(8, 30), HM(12, 0) };
	spec.periods[1] = (struct calendar_period){ HM(13, 30), HM(17, 30) };
	spec.nperiods = 2;
	spec.entries = entries;
	spec.nentries = sizeof(entries) / sizeof(entries[0]);
	if ((c = calendar_new(&spec, why, sizeof(why))) == NULL) {
		fprintf(stderr, "fuzz_rules: calendar: %s\n", why);
		abort();
	}
	return c;
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

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rules_config_default(&cfg);
	snprintf(cfg.forbidden_place.categories[0].name,
	    sizeof(cfg.forbidden_place.categories[0].name), "entertainment");
	cfg.forbidden_place.categories[0].dwell_s = 180;
	cfg.forbidden_place.ncategories = 1;
	cal = office_calendar();
	fences = county();

	/* To the hospital by the route; to it again tomorrow; a short one
	 * without a destination; one whose fences are not in the set. */
	orders[0] = order("o-1", BASE_MS + HOUR, BASE_MS + 3 * HOUR);
	orders[0].has_dest_point = true;
	xy_ll(0, -3000, &orders[0].dest_lat, &orders[0].dest_lon);
	orders[0].dest_radius_m = 200;
	snprintf(orders[0].corridor_fence, sizeof(orders[0].corridor_fence),
	    "route");
	orders[1] = order("o-2", BASE_MS + 25 * HOUR, BASE_MS + 26 * HOUR);
	snprintf(orders[1].dest_fence, sizeof(orders[1].dest_fence),
	    "hospital");
	orders[2] = order("o-3", BASE_MS + 2 * HOUR, BASE_MS + 5 * HOUR / 2);
	orders[3] = order("o-4", BASE_MS + 5 * HOUR, BASE_MS + 8 * HOUR);
	snprintf(orders[3].dest_fence, sizeof(orders[3].dest_fence), "gone");
	snprintf(orders[3].corridor_fence, sizeof(orders[3].corridor_fence),
	    "gone-too");
	return 0;
}

/* Local civil time at UTC+8 for any instant (proleptic Gregorian). */
static int
local_cst(int64_t t, struct calendar_date *d, int *sod, void *arg)
{
	int64_t	s, days, z, era, doe, yoe, doy, mp, y;

	(void)arg;
	/* The zone database's range: years 0000..9999. */
	if (t < INT64_C(-62167219200000) || t > INT64_C(253402300799999))
		return -1;
	s = (t >= 0 ? t / SEC : -((-t + SEC - 1) / SEC)) + CST_S;
	days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	*sod = (int)(s - days * 86400);
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	d->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	d->year = (int)(y + (d->month <= 2));
	return 0;
}

/* ------------------------------------------------------------ checks */

static struct open_ep *
find_open(uint64_t id)
{
	size_t	i;

	for (i = 0; i < ck.nopen; i++)
		if (ck.open[i].id == id)
			return &ck.open[i];
	return NULL;
}

static bool
was_restored(uint64_t id)
{
	size_t	i;

	for (i = 0; i < ck.nrestored; i++)
		if (ck.restored[i] == id)
			return true;
	return false;
}

static void
new_id(uint64_t id)
{
	CHECK(id > ck.last_id);
	CHECK(!was_restored(id));
	CHECK(find_open(id) == NULL);
	ck.last_id = id;
}

static void
on_event(const struct rules_event *ev, void *arg)
{
	static char	 dumpbuf[65536];
	struct open_ep	*o;

	(void)arg;
	CHECK(ev->id >= 1);
	CHECK((unsigned)ev->type < RULES_TYPE_COUNT);
	CHECK(ev->severity == rules_type_severity(ev->type));
	CHECK(json_is_object(ev->details));
	CHECK(memchr(ev->fence_id, '\0', sizeof(ev->fence_id)) != NULL);
	CHECK(json_dumpb(ev->details, dumpbuf, sizeof(dumpbuf),
	    JSON_COMPACT) > 0);
	switch (ev->phase) {
	case RULES_EV_OPEN:
		CHECK(ev->end_utc_ms == 0);
		new_id(ev->id);
		CHECK(ck.nopen < MAX_OPEN);
		ck.open[ck.nopen].id = ev->id;
		ck.open[ck.nopen].type = ev->type;
		ck.open[ck.nopen].start = ev->start_utc_ms;
		ck.nopen++;
		break;
	case RULES_EV_INSTANT:
		CHECK(ev->end_utc_ms >= ev->start_utc_ms);
		new_id(ev->id);
		break;
	case RULES_EV_CLOSE:
		CHECK((o = find_open(ev->id)) != NULL);
		CHECK(o->type == ev->type);
		CHECK(o->start == ev->start_utc_ms);
		CHECK(ev->end_utc_ms >= ev->start_utc_ms);
		*o = ck.open[--ck.nopen];
		break;
	default:
		abort();
	}
}

/* Add the open episode of saved episode e (type t) to list. */
static void
saved_open(const json_t *e, enum rules_type t, struct open_ep *list,
    size_t *n)
{
	const json_t	*id = json_object_get(e, "id");

	if (!json_is_true(json_object_get(e, "open")))
		return;
	CHECK(json_is_integer(id) && json_integer_value(id) >= 1);
	CHECK(json_is_integer(json_object_get(e, "since")));
	CHECK(*n < MAX_OPEN);
	list[*n].id = (uint64_t)json_integer_value(id);
	list[*n].type = t;
	list[*n].start = json_integer_value(json_object_get(e, "since"));
	(*n)++;
}

/* The open episodes of a state rules_save() gave. */
static size_t
saved_opens(const json_t *st, struct open_ep *list)
{
	const json_t	*v, *forb;
	const char	*name;
	enum rules_type	 t;
	size_t		 i, n = 0;

	json_object_foreach((json_t *)json_object_get(st, "episodes"), name,
	    v) {
		if (strcmp(name, "dispatch_corridor") == 0)
			t = RULES_DISPATCH_MISMATCH;
		else
			CHECK(rules_type_parse(name, &t) == 0);
		saved_open(v, t, list, &n);
	}
	forb = json_object_get(st, "forbidden");
	for (i = 0; i < json_array_size(forb); i++)
		saved_open(json_array_get(forb, i), RULES_FORBIDDEN_PLACE, list,
		    &n);
	return n;
}

/* The engine holds open exactly what the events left open. */
static void
check_opens(const struct rules *r, const json_t *st)
{
	struct open_ep	 list[MAX_OPEN];
	const struct open_ep *o;
	size_t		 n, i;

	n = saved_opens(st, list);
	CHECK(n == ck.nopen);
	CHECK(rules_open_count(r) == n);
	for (i = 0; i < n; i++) {
		CHECK((o = find_open(list[i].id)) != NULL);
		CHECK(o->type == list[i].type && o->start == list[i].start);
	}
}

/* ------------------------------------------------------------ engine */

struct run {
	struct rules	*r;
	unsigned	 omask;		/* orders set */
	int64_t		 t;		/* harness clock */
	int64_t		 t_end;		/* it stops here */
	uint64_t	 ntrips, trip;
	int64_t		 last_start, last_end;
};

static void
set_orders(struct rules *r, unsigned mask)
{
	struct rules_order	o[NORDERS];
	size_t			i, n = 0;

	for (i = 0; i < NORDERS; i++)
		if (mask & (1u << i))
			o[n++] = orders[i];
	rules_set_orders(r, o, n);
}

static struct rules *
engine(unsigned omask)
{
	struct rules	*r;

	r = rules_new(&cfg, local_cst, NULL, on_event, NULL);
	rules_set_calendar(r, cal);
	rules_set_fences(r, fences);
	set_orders(r, omask);
	return r;
}

static int64_t
jint(const json_t *o, const char *k)
{
	const json_t	*v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/*
 * Save, through text, into a new engine with the same orders: it must
 * restore and save the same state, holding the same episodes open.
 */
static void
round_trip(struct run *u)
{
	struct rules	*r2;
	json_t		*st, *back, *st2;
	json_error_t	 jerr;
	char		*text;

	st = rules_save(u->r);
	CHECK(json_is_object(st));
	check_opens(u->r, st);
	text = json_dumps(st, JSON_COMPACT);
	CHECK(text != NULL);
	back = json_loads(text, 0, &jerr);
	if (back == NULL) {
		fprintf(stderr, "fuzz_rules: saved state unreadable: %s: %s\n",
		    jerr.text, text);
		abort();
	}
	free(text);
	r2 = engine(u->omask);
	CHECK(rules_restore(r2, back) == 0);
	st2 = rules_save(r2);
	if (!json_equal(st, st2)) {
		fprintf(stderr, "fuzz_rules: state changed by a round trip\n");
		json_dumpf(st, stderr, JSON_SORT_KEYS);
		fputc('\n', stderr);
		json_dumpf(st2, stderr, JSON_SORT_KEYS);
		fputc('\n', stderr);
		abort();
	}
	check_opens(r2, st2);
	json_decref(st);
	json_decref(st2);
	json_decref(back);
	rules_free(u->r);
	u->r = r2;
}

/* The restored state's episodes and times, for the checks and the clock. */
static void
restored(struct run *u)
{
	struct open_ep	 list[MAX_OPEN];
	json_t		*st = rules_save(u->r);
	size_t		 n, i;
	int64_t		 now;

	n = saved_opens(st, list);
	CHECK(rules_open_count(u->r) == n);
	for (i = 0; i < n; i++) {
		CHECK(find_open(list[i].id) == NULL);	/* an id twice */
		CHECK(ck.nopen < MAX_OPEN);
		ck.open[ck.nopen++] = list[i];
		CHECK(ck.nrestored < MAX_RESTORED);
		ck.restored[ck.nrestored++] = list[i].id;
	}
	now = jint(st, "now");
	if (now > u->t && now < TIME_MAX_MS)
		u->t = now;
	u->last_start = jint(json_object_get(st, "trip"), "start");
	u->last_end = jint(json_object_get(st, "park"), "t");
	if (json_is_true(json_object_get(json_object_get(st, "trip"), "in")))
		u->trip = (uint64_t)jint(json_object_get(st, "trip"), "id");
	json_decref(st);
}

static void
restore_input(struct run *u, const uint8_t *data, size_t len)
{
	json_t		*st, *before, *after;
	json_error_t	 jerr;

	if (len == 0 || (st = json_loadb((const char *)data, len, 0,
	    &jerr)) == NULL)
		return;
	before = rules_save(u->r);
	if (rules_restore(u->r, st) == 0)
		restored(u);
	else {
		/* Refused: the engine is as it was. */
		after = rules_save(u->r);
		CHECK(json_equal(before, after));
		json_decref(after);
	}
	json_decref(before);
	json_decref(st);
}

/* ------------------------------------------------------------ inputs */

static const double weird[8] = {
	NAN, INFINITY, -INFINITY, 1e300, -1e300, 90.0, 180.5, -0.0
};

static const char *const codes[16] = {
	"P0301", "P0420", "C0035", "B1000", "U0100", "P0171", "P0300",
	"P0128", "P0301", "P0A80", "U3FFF", "B0001", "C1234", "P2BAD",
	"P0000", "PFFFF"
};

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int32_t
be32s(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static double
kmh_of(uint8_t b)
{
	switch (b) {
	case 255:	return NAN;
	case 254:	return 1e6;
	case 253:	return -5.0;
	default:	return b;
	}
}

static void
do_fix(struct run *u, int64_t t, uint8_t flags, const uint8_t *p)
{
	struct fix	f;
	double		scale = flags & 8 ? 100.0 : 1.0;

	memset(&f, 0, sizeof(f));
	f.t_utc_ms = t;
	xy_ll((int16_t)be16(p) * scale, (int16_t)be16(p + 2) * scale,
	    &f.lat_deg, &f.lon_deg);
	if (p[5] & 0x80) {
		if (p[5] & 0x40)
			f.lat_deg = weird[p[5] & 7];
		else
			f.lon_deg = weird[p[5] & 7];
	}
	switch (p[4]) {
	case 255:	f.speed_mps = NAN; break;
	case 254:	f.speed_mps = INFINITY; break;
	case 253:	f.speed_mps = -INFINITY; break;
	case 252:	f.speed_mps = 1e308; break;
	case 251:	f.speed_mps = -10.0; break;
	default:	f.speed_mps = p[4] / 3.6; break;
	}
	f.alt_m = f.heading_deg = NAN;
	f.hdop = 1.0;
	f.eph_m = 5.0;
	f.mode = 3;
	f.sats_used = 10;
	f.sats_visible = 14;
	rules_on_fix(u->r, &f);
}

static void
do_obd(struct run *u, int64_t t, uint8_t flags, const uint8_t *p)
{
	struct obd_sample	s;
	static const int	mil[4] = { -1, 0, 1, -1 };

	record_obd_clear(&s);
	s.rpm = p[0] == 255 ? NAN : p[0] * 40.0;
	s.speed_kmh = kmh_of(p[1]);
	s.fuel_level_pct = p[2] == 255 ? NAN : p[2];
	s.battery_v = p[3] == 255 ? NAN : p[3] / 10.0;
	s.mil_on = mil[(flags >> 3) & 3];
	rules_on_obd(u->r, (flags & 0x20) ? NULL : &s, t);
}

static void
do_dtcs(struct run *u, int64_t t, const uint8_t *p)
{
	struct obd_dtc	d[8];
	size_t		n = p[0] % 9, i;

	for (i = 0; i < n; i++) {
		snprintf(d[i].code, sizeof(d[i].code), "%s",
		    codes[p[1 + i / 2] >> (i % 2 * 4) & 15]);
		d[i].mode = i % 3 == 0 ? 0x03 : i % 3 == 1 ? 0x07 : 0x0a;
	}
	rules_on_dtcs(u->r, d, n, t);
}

static void
do_power_loss(struct run *u, int64_t t, uint8_t flags, const uint8_t *p)
{
	int64_t	last;

	/* The newest record of the database: anything. */
	switch ((flags >> 4) & 7) {
	case 0:		last = 0; break;
	case 1:		last = t - (int64_t)be16(p) * SEC; break;
	case 2:		last = t + (int64_t)be16(p) * SEC; break;
	case 3:		last = INT64_MIN; break;
	case 4:		last = INT64_MAX; break;
	default:
		last = (int64_t)((uint64_t)(uint32_t)be32s(p) << 32 |
		    (uint32_t)be32s(p + 4));
		break;
	}
	rules_power_loss(u->r, last, t, flags & 8);
}

static void
step(struct run *u, const uint8_t *rec)
{
	static const int64_t	unit[4] = { 1, SEC, 60 * SEC, HOUR };
	uint8_t			flags = rec[1];
	const uint8_t		*p = rec + 4;
	int64_t			t, ts;

	u->t += (int64_t)be16(rec + 2) * unit[flags & 3];
	if (u->t > u->t_end)
		u->t = u->t_end;
	t = u->t;
	if (flags & 4) {
		t -= (int64_t)p[7] * SEC;
		if (t < TIME_MIN_MS)
			t = TIME_MIN_MS;
	}
	switch (rec[0] % NOPS) {
	case OP_FIX:
		do_fix(u, t, flags, p);
		break;
	case OP_OBD:
		do_obd(u, t, flags, p);
		break;
	case OP_OBD_LINK:
		rules_on_obd_link(u->r, flags & 8, t);
		break;
	case OP_DTCS:
		do_dtcs(u, t, p);
		break;
	case OP_TRIP_START:
		ts = t < u->last_end ? u->last_end : t;
		u->trip = flags & 8 && u->ntrips > 0 ? u->ntrips + 100 :
		    ++u->ntrips + 100;
		u->last_start = ts;
		rules_trip_start(u->r, u->trip, ts);
		break;
	case OP_TRIP_END:
		ts = t < u->last_start ? u->last_start : t;
		u->last_end = ts;
		rules_trip_end(u->r, flags & 8 ? 0 : u->trip, ts);
		u->trip = 0;
		break;
	case OP_CLOCK:
		rules_on_clock(u->r, t, flags & 8 ? t :
		    t + (int64_t)be32s(p) * SEC);
		break;
	case OP_POWER_LOSS:
		do_power_loss(u, t, flags, p);
		break;
	case OP_TICK:
		rules_tick(u->r, t);
		break;
	case OP_SET_ORDERS:
		u->omask = p[0] & 15;
		set_orders(u->r, u->omask);
		break;
	case OP_ROUND_TRIP:
		round_trip(u);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 u;
	const uint8_t	*nul;
	size_t		 slen, off;

	memset(&ck, 0, sizeof(ck));
	memset(&u, 0, sizeof(u));
	u.omask = 3;
	u.t = BASE_MS;
	u.r = engine(u.omask);
	nul = memchr(data, '\0', size);
	slen = nul != NULL ? (size_t)(nul - data) : size;
	restore_input(&u, data, slen);
	u.t_end = u.t + SPAN_MAX_MS < TIME_MAX_MS ? u.t + SPAN_MAX_MS :
	    TIME_MAX_MS - 1;
	for (off = slen + 1; off + REC_LEN <= size; off += REC_LEN)
		step(&u, data + off);
	round_trip(&u);
	rules_free(u.r);
	return 0;
}
