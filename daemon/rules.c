/* SPDX-License-Identifier: MIT */
/*
 * rules.c - the usage rules engine; see rules.h.
 *
 * Every input first advances the engine's clock to its time (advance()),
 * which runs what time alone decides: the night check at check_time,
 * the morning end of an overnight episode, the end of a dispatch order's
 * window, a fatigue rest that has become long enough, silences.  Then the
 * input itself is evaluated.  Replayed logs jump over hours of parking in
 * one step, so nothing here assumes that time moves in small steps: the
 * time-driven checks compute the instant they were due and report that
 * instant, not the moment they were noticed.
 *
 * Episodes share one debouncer (struct ep, ep_true(), ep_false()); the
 * rule-specific numbers for the details object ride along in ep.a[].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"
#include "rules.h"
#include "util.h"

#define MS		1000LL
#define DAY_S		86400
#define MAX_ORDERS	4096
#define MAX_FORBIDDEN	32	/* forbidden fences tracked at once */
#define MAX_DTCS	32	/* active codes remembered */
#define FIX_GAP_MS	(3 * MS)	/* no fix this long: fix lost */
#define OBD_FRESH_MS	(10 * MS)	/* OBD sample still says something */
#define STILL_KMH	2.0	/* below: standing */
#define MOVING_KMH	5.0	/* at or above: moving */
#define STOP_MAX_MOVE_M	200.0	/* a silent gap that moved less: a stop */
#define OVERNIGHT_MIN_MS (15 * 60 * MS) /* parked outside at night this long */
#define FUEL_WINDOW_MS	(60 * MS)	/* level averaged over */
#define CLOCK_OFF_MS	(60 * MS)
#define QUERY_MAX	64
#define MAX_NIGHTS	366	/* nights checked in one jump of time */

/* The singleton episodes. */
enum ep_slot {
	EP_AFTER_HOURS,
	EP_HOLIDAY,
	EP_REGION,
	EP_OVERNIGHT,
	EP_CORRIDOR,
	EP_SPEEDING,
	EP_IDLE,
	EP_GNSS_LOST,
	EP_OBD_LOST,
	EP_CLOCK,
	EP_FATIGUE,
	EP_NSLOTS
};

static const enum rules_type slot_type[EP_NSLOTS] = {
	[EP_AFTER_HOURS] = RULES_AFTER_HOURS_USE,
	[EP_HOLIDAY] = RULES_HOLIDAY_USE,
	[EP_REGION] = RULES_REGION_EXIT,
	[EP_OVERNIGHT] = RULES_OVERNIGHT_PARKING,
	[EP_CORRIDOR] = RULES_DISPATCH_MISMATCH,
	[EP_SPEEDING] = RULES_SPEEDING,
	[EP_IDLE] = RULES_EXCESSIVE_IDLE,
	[EP_GNSS_LOST] = RULES_GNSS_LOST_WHILE_MOVING,
	[EP_OBD_LOST] = RULES_OBD_LOST,
	[EP_CLOCK] = RULES_CLOCK_JUMP,
	[EP_FATIGUE] = RULES_FATIGUE_DRIVING,
};

struct ep {
	bool		 cand;		/* condition seen true, not reported */
	bool		 open;		/* OPEN reported */
	uint64_t	 id;		/* while open */
	int64_t		 since_ms;	/* first true moment */
	int64_t		 last_true_ms;
	int64_t		 false_ms;	/* first false moment, 0 while true */
	uint64_t	 trip_id;
	double		 lat, lon;	/* at since */
	char		 fence[FENCE_ID_MAX + 1];
	char		 key[FENCE_ID_MAX + 1]; /* forbidden: fence; corridor:
					   order */
	double		 a[4];		/* rule numbers for the details */
	bool		 restored;	/* loaded, not seen true since */
};

struct order_state {
	struct rules_order o;
	bool		 used;		/* a trip ran under it */
	bool		 reached;	/* its destination was reached */
	bool		 checked;	/* window over, verdict given */
	int64_t		 first_use_ms;
	uint64_t	 trip_id;	/* the trip that used it last */
};

struct rules {
	struct rules_config cfg;
	rules_localtime_fn *localtime;
	void		*ltarg;
	rules_cb	*cb;
	void		*cbarg;
	const struct calendar *cal;
	const struct fence_set *fences;

	uint64_t	 next_id;
	int64_t		 now_ms;	/* latest input time, 0 none */

	/* trip */
	bool		 in_trip;
	uint64_t	 trip_id;
	int64_t		 trip_start_ms;
	int64_t		 trip_end_ms;

	/* last fix */
	bool		 have_fix;
	int64_t		 fix_ms;
	double		 fix_lat, fix_lon, fix_kmh;

	/* last OBD */
	int64_t		 obd_ms;
	double		 obd_rpm, obd_kmh;
	bool		 obd_link_up;
	bool		 obd_link_known;
	int		 mil_on;	/* -1 unknown */

	struct ep	 slot[EP_NSLOTS];
	struct ep	 forb[MAX_FORBIDDEN];
	size_t		 nforb;

	/* overnight: the local date (yyyymmdd) whose night was checked */
	int		 night_checked;
	/* fatigue */
	int64_t		 drive_start_ms;	/* 0: not driving */
	int64_t		 rest_start_ms;		/* 0: not resting */
	/* fuel */
	double		 fuel_sum_end, fuel_n_end;	/* last minute of a trip */
	double		 fuel_sum_prev, fuel_n_prev;	/* the minute before */
	int64_t		 fuel_win_ms;
	double		 park_level;		/* NaN none */
	int64_t		 park_ms;
	double		 park_lat, park_lon;
	double		 fuel_sum_start, fuel_n_start;
	bool		 fuel_pending;		/* compare after start */
	/* dtc */
	char		 dtc[MAX_DTCS][RECORD_DTC_LEN + 1];
	size_t		 ndtc;
	bool		 dtc_known;
	/* commute */
	bool		 in_office;
	bool		 office_known;
	bool		 out;			/* left the office */
	int64_t		 out_ms;
	double		 out_lat, out_lon;
	double		 out_far_m;
	int64_t		 stop_ms;		/* standing since, 0 moving */
	double		 stop_lat, stop_lon;
	int		 nstops;		/* stops in [min, max] */
	bool		 long_stop;		/* a stop longer than max */
	int64_t		 best_stop_s;
	double		 best_stop_lat, best_stop_lon;
	/* orders */
	struct order_state *orders;
	size_t		 norders;
};

/* ---------------------------------------------------------------- names */

static const char *const type_names[RULES_TYPE_COUNT] = {
	"after_hours_use", "holiday_use", "region_exit", "forbidden_place",
	"overnight_parking", "commute_pattern", "dispatch_mismatch",
	"speeding", "fatigue_driving", "excessive_idle", "fuel_drop",
	"gnss_lost_while_moving", "position_jump", "power_loss", "obd_lost",
	"dtc", "clock_jump", "storage_pressure", "inspection_export",
	"inspection"
};

static const enum rules_severity type_severity[RULES_TYPE_COUNT] = {
	[RULES_AFTER_HOURS_USE] = RULES_VIOLATION,
	[RULES_HOLIDAY_USE] = RULES_VIOLATION,
	[RULES_REGION_EXIT] = RULES_VIOLATION,
	[RULES_FORBIDDEN_PLACE] = RULES_VIOLATION,
	[RULES_OVERNIGHT_PARKING] = RULES_VIOLATION,
	[RULES_COMMUTE_PATTERN] = RULES_VIOLATION,
	[RULES_DISPATCH_MISMATCH] = RULES_VIOLATION,
	[RULES_SPEEDING] = RULES_WARNING,
	[RULES_FATIGUE_DRIVING] = RULES_VIOLATION,
	[RULES_EXCESSIVE_IDLE] = RULES_WARNING,
	[RULES_FUEL_DROP] = RULES_CRITICAL,
	[RULES_GNSS_LOST_WHILE_MOVING] = RULES_CRITICAL,
	[RULES_POSITION_JUMP] = RULES_WARNING,
	[RULES_POWER_LOSS] = RULES_WARNING,
	[RULES_OBD_LOST] = RULES_WARNING,
	[RULES_DTC] = RULES_WARNING,
	[RULES_CLOCK_JUMP] = RULES_WARNING,
	[RULES_STORAGE_PRESSURE] = RULES_WARNING,
	[RULES_INSPECTION_EXPORT] = RULES_INFO,
	[RULES_INSPECTION] = RULES_INFO,
};

static const char *const severity_names[] = {
	"info", "warning", "violation", "critical"
};

const char *
rules_type_name(enum rules_type t)
{
	if ((unsigned)t >= RULES_TYPE_COUNT)
		return NULL;
	return type_names[t];
}

int
rules_type_parse(const char *name, enum rules_type *out)
{
	int	i;

	for (i = 0; i < RULES_TYPE_COUNT; i++)
		if (strcmp(name, type_names[i]) == 0) {
			*out = (enum rules_type)i;
			return 0;
		}
	return -1;
}

const char *
rules_severity_name(enum rules_severity s)
{
	if ((unsigned)s > RULES_CRITICAL)
		return NULL;
	return severity_names[s];
}

int
rules_severity_parse(const char *name, enum rules_severity *out)
{
	int	i;

	for (i = 0; i <= RULES_CRITICAL; i++)
		if (strcmp(name, severity_names[i]) == 0) {
			*out = (enum rules_severity)i;
			return 0;
		}
	return -1;
}

enum rules_severity
rules_type_severity(enum rules_type t)
{
	if ((unsigned)t >= RULES_TYPE_COUNT)
		return RULES_INFO;
	return type_severity[t];
}

/* --------------------------------------------------------------- config */

#define CLASS_EMERGENCY		1
#define CLASS_LAW_ENFORCEMENT	2
#define EXEMPT_DEFAULT	((1u << CLASS_EMERGENCY) | (1u << CLASS_LAW_ENFORCEMENT))

void
rules_config_default(struct rules_config *c)
{
	memset(c, 0, sizeof(*c));
	c->vehicle_class = 0;
	c->dispatch_grace_s = 900;

	c->after_hours_use.c.enabled = true;
	c->after_hours_use.c.exempt_classes = EXEMPT_DEFAULT;
	c->after_hours_use.min_s = 120;
	c->after_hours_use.merge_s = 300;
	c->holiday_use = c->after_hours_use;

	c->region_exit.c.enabled = true;
	c->region_exit.min_s = 60;
	c->region_exit.reenter_s = 60;

	c->forbidden_place.c.enabled = true;
	c->forbidden_place.dwell_s = 300;
	c->forbidden_place.exit_s = 60;

	c->overnight_parking.c.enabled = true;
	c->overnight_parking.check_min = 22 * 60;
	c->overnight_parking.morning_min = 6 * 60;

	c->commute_pattern.c.enabled = true;
	c->commute_pattern.c.exempt_classes = EXEMPT_DEFAULT;
	c->commute_pattern.morning_from_min = 6 * 60 + 30;
	c->commute_pattern.morning_to_min = 9 * 60 + 30;
	c->commute_pattern.evening_from_min = 17 * 60;
	c->commute_pattern.evening_to_min = 20 * 60 + 30;
	c->commute_pattern.max_round_s = 5400;
	c->commute_pattern.min_stop_s = 30;
	c->commute_pattern.max_stop_s = 900;
	c->commute_pattern.max_distance_m = 30000;

	c->dispatch_mismatch.c.enabled = true;
	c->dispatch_mismatch.corridor_s = 120;

	c->speeding.c.enabled = true;
	c->speeding.limit_kmh = 120.0;
	c->speeding.tolerance_kmh = 5.0;
	c->speeding.min_s = 30;
	c->speeding.reset_s = 10;

	c->fatigue_driving.c.enabled = true;
	c->fatigue_driving.max_drive_s = 4 * 3600;
	c->fatigue_driving.min_rest_s = 20 * 60;

	c->excessive_idle.c.enabled = true;
	c->excessive_idle.max_idle_s = 600;

	c->fuel_drop.c.enabled = true;
	c->fuel_drop.min_drop_pct = 5.0;
	c->fuel_drop.min_drop_l = 0.0;
	c->fuel_drop.tank_l = NAN;

	c->gnss_lost_while_moving.c.enabled = true;
	c->gnss_lost_while_moving.min_speed_kmh = 10.0;
	c->gnss_lost_while_moving.min_s = 30;

	c->position_jump.c.enabled = true;
	c->position_jump.max_kmh = 200.0;
	c->position_jump.min_jump_m = 1000;

	c->power_loss.c.enabled = true;

	c->obd_lost.c.enabled = true;
	c->obd_lost.min_s = 60;

	c->dtc.c.enabled = true;

	c->clock_jump.c.enabled = true;
	c->clock_jump.tolerance_s = 300;
}

static const struct rules_common *
common(const struct rules_config *c, enum rules_type t)
{
	switch (t) {
	case RULES_AFTER_HOURS_USE:	return &c->after_hours_use.c;
	case RULES_HOLIDAY_USE:		return &c->holiday_use.c;
	case RULES_REGION_EXIT:		return &c->region_exit.c;
	case RULES_FORBIDDEN_PLACE:	return &c->forbidden_place.c;
	case RULES_OVERNIGHT_PARKING:	return &c->overnight_parking.c;
	case RULES_COMMUTE_PATTERN:	return &c->commute_pattern.c;
	case RULES_DISPATCH_MISMATCH:	return &c->dispatch_mismatch.c;
	case RULES_SPEEDING:		return &c->speeding.c;
	case RULES_FATIGUE_DRIVING:	return &c->fatigue_driving.c;
	case RULES_EXCESSIVE_IDLE:	return &c->excessive_idle.c;
	case RULES_FUEL_DROP:		return &c->fuel_drop.c;
	case RULES_GNSS_LOST_WHILE_MOVING:
		return &c->gnss_lost_while_moving.c;
	case RULES_POSITION_JUMP:	return &c->position_jump.c;
	case RULES_POWER_LOSS:		return &c->power_loss.c;
	case RULES_OBD_LOST:		return &c->obd_lost.c;
	case RULES_DTC:			return &c->dtc.c;
	case RULES_CLOCK_JUMP:
	case RULES_STORAGE_PRESSURE:
	case RULES_INSPECTION_EXPORT:
	case RULES_INSPECTION:
	case RULES_TYPE_COUNT:
		break;
	}
	return &c->clock_jump.c;
}

/* Does rule t apply to this vehicle? */
static bool
active(const struct rules *r, enum rules_type t)
{
	const struct rules_common *c = common(&r->cfg, t);
	int cls = r->cfg.vehicle_class;

	if (!c->enabled)
		return false;
	return !(cls >= 0 && cls < 8 && (c->exempt_classes & (1u << cls)));
}

/* ------------------------------------------------------------ emission */

static void
emit_sev(struct rules *r, enum rules_type type, enum rules_severity sev,
    enum rules_phase phase, uint64_t id, int64_t start, int64_t end,
    uint64_t trip_id, double lat, double lon, const char *fence,
    json_t *details)
{
	struct rules_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = id;
	ev.phase = phase;
	ev.type = type;
	ev.severity = sev >= RULES_INFO && sev <= RULES_CRITICAL ? sev :
	    rules_type_severity(type);
	ev.start_utc_ms = start;
	ev.end_utc_ms = phase == RULES_EV_OPEN ? 0 : end;
	ev.trip_id = trip_id;
	ev.lat_deg = lat;
	ev.lon_deg = lon;
	util_strlcpy(ev.fence_id, fence != NULL ? fence : "",
	    sizeof(ev.fence_id));
	ev.details = details != NULL ? details : json_object();
	if (r->cb != NULL)
		r->cb(&ev, r->cbarg);
	json_decref(ev.details);
}

static void
emit(struct rules *r, enum rules_type type, enum rules_phase phase,
    uint64_t id, int64_t start, int64_t end, uint64_t trip_id, double lat,
    double lon, const char *fence, json_t *details)
{
	emit_sev(r, type, rules_type_severity(type), phase, id, start, end,
	    trip_id, lat, lon, fence, details);
}

static void
instant(struct rules *r, enum rules_type type, int64_t start, int64_t end,
    uint64_t trip_id, double lat, double lon, const char *fence,
    json_t *details)
{
	if (!active(r, type)) {
		json_decref(details);
		return;
	}
	emit(r, type, RULES_EV_INSTANT, r->next_id++, start, end, trip_id, lat,
	    lon, fence, details);
}

void
rules_raise_severity(struct rules *r, enum rules_type type,
    enum rules_severity sev, int64_t t_utc_ms, json_t *details)
{
	if (type < RULES_RULE_COUNT || type >= RULES_TYPE_COUNT) {
		json_decref(details);
		return;
	}
	emit_sev(r, type, sev, RULES_EV_INSTANT, r->next_id++, t_utc_ms,
	    t_utc_ms, 0, NAN, NAN, NULL,
	    details != NULL ? details : json_object());
}

void
rules_raise(struct rules *r, enum rules_type type, int64_t t_utc_ms,
    json_t *details)
{
	rules_raise_severity(r, type, rules_type_severity(type), t_utc_ms,
	    details);
}

static void
jset_num(json_t *o, const char *k, double v, double scale)
{
	if (isfinite(v))
		json_object_set_new(o, k, json_real(round(v * scale) / scale));
	else
		json_object_set_new(o, k, json_null());
}

static void
jset_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v != NULL ? v : ""));
}

/* Fence name and category for the details of a fence episode. */
static void
jset_fence(const struct rules *r, json_t *o, const char *fence_id)
{
	const struct fence_info	*fi;
	long			 idx;

	if (fence_id[0] == '\0' || r->fences == NULL ||
	    (idx = fence_set_find(r->fences, fence_id)) < 0 ||
	    (fi = fence_set_info(r->fences, (size_t)idx)) == NULL)
		return;
	if (fi->name[0] != '\0')
		jset_str(o, "fence_name", fi->name);
	if (fi->category[0] != '\0')
		jset_str(o, "category", fi->category);
}

static json_t *ep_details(const struct rules *, enum rules_type,
    const struct ep *, int64_t end);

static void
ep_report_open(struct rules *r, enum rules_type type, struct ep *e)
{
	e->cand = false;
	e->open = true;
	e->id = r->next_id++;
	emit(r, type, RULES_EV_OPEN, e->id, e->since_ms, 0, e->trip_id,
	    e->lat, e->lon, e->fence, ep_details(r, type, e, 0));
}

static void
ep_reset(struct ep *e)
{
	char	key[sizeof(e->key)];

	memcpy(key, e->key, sizeof(key));
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, sizeof(key));
	e->lat = e->lon = NAN;
}

/* End the episode at end (an open one is reported, a candidate dropped). */
static void
ep_close(struct rules *r, enum rules_type type, struct ep *e, int64_t end)
{
	if (e->open) {
		if (end < e->since_ms)
			end = e->since_ms;
		emit(r, type, RULES_EV_CLOSE, e->id, e->since_ms, end,
		    e->trip_id, e->lat, e->lon, e->fence,
		    ep_details(r, type, e, end));
	}
	ep_reset(e);
}

/*
 * The condition holds at t.  A candidate that was interrupted by a
 * silence longer than RULES_SILENCE_MS starts over unless the rule
 * counts through silences (continuous: staying at a place).  It opens
 * once it has held for on_ms.
 */
static void
ep_true(struct rules *r, enum rules_type type, struct ep *e, int64_t t,
    int64_t on_ms, bool continuous, const char *fence)
{
	/* Silent since last seen true (a false input would have set
	 * false_ms, and then only off_ms decides). */
	if ((e->cand || e->open) && !continuous && e->false_ms == 0 &&
	    t - e->last_true_ms > RULES_SILENCE_MS)
		ep_close(r, type, e, e->last_true_ms);
	if (!e->cand && !e->open) {
		if (!active(r, type))
			return;
		e->cand = true;
		e->since_ms = t;
		e->trip_id = r->in_trip ? r->trip_id : 0;
		e->lat = r->have_fix ? r->fix_lat : NAN;
		e->lon = r->have_fix ? r->fix_lon : NAN;
		util_strlcpy(e->fence, fence != NULL ? fence : "",
		    sizeof(e->fence));
		/* e->a[] is zero on a reset episode: a caller may set it
		 * first so that an OPEN at once carries it. */
	}
	e->last_true_ms = t;
	e->false_ms = 0;
	e->restored = false;
	if (e->cand && t - e->since_ms >= on_ms)
		ep_report_open(r, type, e);
}

/*
 * The condition is false at t.  The episode ends once it has been false
 * for off_ms, at the first false moment; after a silence longer than
 * RULES_SILENCE_MS since it was last seen true, at that last sight.
 */
static void
ep_false(struct rules *r, enum rules_type type, struct ep *e, int64_t t,
    int64_t off_ms)
{
	if (!e->cand && !e->open)
		return;
	if (e->false_ms == 0) {
		e->false_ms = t;
		if (t - e->last_true_ms > RULES_SILENCE_MS) {
			/* Silent, then false: it ended at its last sight. */
			ep_close(r, type, e, e->last_true_ms);
			return;
		}
		/* Restored and false: unknown since; off_ms still applies. */
		if (e->restored)
			e->false_ms = e->last_true_ms;
	}
	if (t - e->false_ms >= off_ms)
		ep_close(r, type, e, e->false_ms);
}

/* The trip ended at te; an episode already false ended then. */
static void
ep_trip_end(struct rules *r, enum rules_type type, struct ep *e, int64_t te)
{
	ep_close(r, type, e, e->false_ms != 0 && e->false_ms < te ?
	    e->false_ms : te);
}

/* An episode still pending its off_ms when no input comes (ticks). */
static void
ep_tick(struct rules *r, enum rules_type type, struct ep *e, int64_t t,
    int64_t off_ms)
{
	if ((e->cand || e->open) && e->false_ms != 0 &&
	    t - e->false_ms >= off_ms)
		ep_close(r, type, e, e->false_ms);
}

/* ------------------------------------------------------------ helpers */

struct lt {
	struct calendar_date date;
	int		 sec;		/* of the local day */
	int		 ymd;		/* yyyymmdd */
};

static bool
local(const struct rules *r, int64_t t, struct lt *lt)
{
	if (r->localtime == NULL ||
	    r->localtime(t, &lt->date, &lt->sec, r->ltarg) != 0)
		return false;
	lt->ymd = lt->date.year * 10000 + lt->date.month * 100 + lt->date.day;
	return true;
}

static const struct order_state *
covering(const struct rules *r, int64_t t)
{
	int64_t	grace = (int64_t)r->cfg.dispatch_grace_s * MS;
	size_t	i;

	for (i = 0; i < r->norders; i++)
		if (t >= r->orders[i].o.valid_from_ms - grace &&
		    t <= r->orders[i].o.valid_to_ms + grace)
			return &r->orders[i];
	return NULL;
}

const char *
rules_covering_order(const struct rules *r, int64_t t)
{
	const struct order_state *os = covering(r, t);

	return os != NULL ? os->o.id : NULL;
}

/* The fences covering the last fix, by kind; n is the count. */
struct hits {
	uint32_t	 idx[QUERY_MAX];
	size_t		 n;
};

static void
query(const struct rules *r, double lat, double lon, struct hits *h)
{
	h->n = 0;
	if (r->fences == NULL)
		return;
	h->n = fence_set_query(r->fences, lon, lat, h->idx, QUERY_MAX);
	if (h->n > QUERY_MAX)
		h->n = QUERY_MAX;
}

static const struct fence_info *
hit_info(const struct rules *r, const struct hits *h, size_t i)
{
	return fence_set_info(r->fences, h->idx[i]);
}

static bool
has_kind(const struct rules *r, enum fence_kind k)
{
	size_t	i, n;

	if (r->fences == NULL)
		return false;
	n = fence_set_count(r->fences);
	for (i = 0; i < n; i++)
		if (fence_set_info(r->fences, i)->kind == k)
			return true;
	return false;
}

static bool
hits_kind(const struct rules *r, const struct hits *h, enum fence_kind k,
    const char **id)
{
	size_t	i;

	for (i = 0; i < h->n; i++)
		if (hit_info(r, h, i)->kind == k) {
			if (id != NULL)
				*id = hit_info(r, h, i)->id;
			return true;
		}
	return false;
}

static bool
obd_fresh(const struct rules *r, int64_t t)
{
	return r->obd_ms != 0 && t - r->obd_ms <= OBD_FRESH_MS;
}

/* Current speed: the fix's, else a fresh OBD speed; NaN unknown. */
static double
speed_now(const struct rules *r, int64_t t)
{
	if (r->have_fix && t - r->fix_ms <= FIX_GAP_MS && isfinite(r->fix_kmh))
		return r->fix_kmh;
	if (obd_fresh(r, t) && isfinite(r->obd_kmh))
		return r->obd_kmh;
	return NAN;
}

static bool
engine_on(const struct rules *r, int64_t t)
{
	return obd_fresh(r, t) && isfinite(r->obd_rpm) && r->obd_rpm > 0.0;
}

/* -------------------------------------------------------------- details */

static const char *
day_name(enum calendar_day k)
{
	switch (k) {
	case CALENDAR_WORKDAY:	return "workday";
	case CALENDAR_REST_DAY:	return "rest_day";
	case CALENDAR_HOLIDAY:	break;
	}
	return "holiday";
}

static json_t *
ep_details(const struct rules *r, enum rules_type type, const struct ep *e,
    int64_t end)
{
	json_t		*o = json_object();
	struct lt	 lt;
	const char	*name = NULL;
	char		 buf[128];
	int		 m;

	switch (type) {
	case RULES_AFTER_HOURS_USE:
	case RULES_HOLIDAY_USE:
		if (r->cal != NULL && local(r, e->since_ms, &lt)) {
			jset_str(o, "day", day_name(calendar_day_kind(r->cal,
			    &lt.date, &name)));
			if (name != NULL && name[0] != '\0')
				jset_str(o, "day_name", name);
			calendar_format_periods(r->cal, buf, sizeof(buf));
			jset_str(o, "work_hours", buf);
		}
		jset_num(o, "distance_m", e->a[0], 10);
		break;
	case RULES_REGION_EXIT:
		if (e->fence[0] != '\0')
			jset_str(o, "left_region", e->fence);
		jset_num(o, "farthest_m", e->a[0], 1);
		break;
	case RULES_FORBIDDEN_PLACE:
		jset_fence(r, o, e->fence);
		json_object_set_new(o, "dwell_limit_s",
		    json_integer((json_int_t)e->a[0]));
		if (end != 0)
			json_object_set_new(o, "stay_s",
			    json_integer((end - e->since_ms) / MS));
		break;
	case RULES_OVERNIGHT_PARKING:
		m = r->cfg.overnight_parking.check_min;
		snprintf(buf, sizeof(buf), "%02d:%02d", m / 60, m % 60);
		jset_str(o, "check_time", buf);
		jset_str(o, "reason", e->a[0] != 0.0 ?
		    "ignition_off_after_check" : "not_parked_at_check");
		break;
	case RULES_DISPATCH_MISMATCH:
		jset_str(o, "reason", "corridor_left");
		jset_str(o, "order_id", e->key);
		jset_fence(r, o, e->fence);
		break;
	case RULES_SPEEDING:
		jset_num(o, "limit_kmh", e->a[0], 10);
		jset_num(o, "max_kmh", e->a[1], 10);
		if (e->fence[0] != '\0')
			jset_fence(r, o, e->fence);
		break;
	case RULES_EXCESSIVE_IDLE:
		if (end != 0)
			json_object_set_new(o, "idle_s",
			    json_integer((end - e->since_ms) / MS));
		json_object_set_new(o, "limit_s", json_integer(
		    r->cfg.excessive_idle.max_idle_s));
		break;
	case RULES_GNSS_LOST_WHILE_MOVING:
		jset_num(o, "obd_distance_m", e->a[0], 1);
		jset_num(o, "max_obd_speed_kmh", e->a[1], 10);
		break;
	case RULES_FATIGUE_DRIVING:
		json_object_set_new(o, "max_drive_s", json_integer(
		    r->cfg.fatigue_driving.max_drive_s));
		json_object_set_new(o, "min_rest_s", json_integer(
		    r->cfg.fatigue_driving.min_rest_s));
		if (end != 0)
			json_object_set_new(o, "driven_s",
			    json_integer((json_int_t)e->a[0]));
		break;
	case RULES_CLOCK_JUMP:
		jset_num(o, "offset_s", e->a[0] / MS, 1);
		break;
	case RULES_OBD_LOST:
	case RULES_COMMUTE_PATTERN:
	case RULES_FUEL_DROP:
	case RULES_POSITION_JUMP:
	case RULES_POWER_LOSS:
	case RULES_DTC:
	case RULES_STORAGE_PRESSURE:
	case RULES_INSPECTION_EXPORT:
	case RULES_INSPECTION:
	case RULES_TYPE_COUNT:
		break;
	}
	return o;
}

/* ------------------------------------------------------------ the rules */

/* after_hours_use and holiday_use: uncovered driving, per trip. */
static void
eval_use(struct rules *r, int64_t t)
{
	const struct rules_config *c = &r->cfg;
	struct lt	 lt;
	double		 v = speed_now(r, t);
	bool		 ah = false, hol = false, use;

	/*
	 * Use is a trip with the engine running or the car moving: not the
	 * minute a trip stays open after the ignition went off (fresh OBD
	 * says engine off and the car stands), nor standing without OBD.
	 */
	use = r->in_trip && !(isfinite(v) && v < STILL_KMH &&
	    (obd_fresh(r, t) ? !engine_on(r, t) : t > r->trip_start_ms));
	if (use && r->cal != NULL && local(r, t, &lt) &&
	    covering(r, t) == NULL) {
		if (calendar_day_kind(r->cal, &lt.date, NULL) ==
		    CALENDAR_HOLIDAY)
			hol = true;
		else if (!calendar_is_work_time(r->cal, &lt.date,
		    lt.sec / 60))
			ah = true;
	}
	if (ah)
		ep_true(r, RULES_AFTER_HOURS_USE, &r->slot[EP_AFTER_HOURS], t,
		    (int64_t)c->after_hours_use.min_s * MS, false, NULL);
	else
		ep_false(r, RULES_AFTER_HOURS_USE, &r->slot[EP_AFTER_HOURS], t,
		    (int64_t)c->after_hours_use.merge_s * MS);
	if (hol)
		ep_true(r, RULES_HOLIDAY_USE, &r->slot[EP_HOLIDAY], t,
		    (int64_t)c->holiday_use.min_s * MS, false, NULL);
	else
		ep_false(r, RULES_HOLIDAY_USE, &r->slot[EP_HOLIDAY], t,
		    (int64_t)c->holiday_use.merge_s * MS);
}

static bool
night_sec(const struct rules *r, int sec)
{
	int	cs = r->cfg.overnight_parking.check_min * 60;
	int	ms = r->cfg.overnight_parking.morning_min * 60;

	if (cs > ms)
		return sec >= cs || sec < ms;
	return sec >= cs && sec < ms;	/* a check after midnight */
}

static bool
parked_ok(const struct rules *r)
{
	struct hits	h;

	if (!r->have_fix)
		return true;	/* nowhere known: nothing to say */
	query(r, r->fix_lat, r->fix_lon, &h);
	return hits_kind(r, &h, FENCE_PARKING, NULL);
}

/* The night check at check_ms (the car was standing then). */
static void
night_check(struct rules *r, int ymd, int64_t check_ms)
{
	struct ep	*e = &r->slot[EP_OVERNIGHT];

	r->night_checked = ymd;
	if (r->in_trip || e->open || !has_kind(r, FENCE_PARKING) ||
	    parked_ok(r))
		return;
	ep_reset(e);
	ep_true(r, RULES_OVERNIGHT_PARKING, e, check_ms, 0, true, NULL);
}

/* The night ended at morning_ms. */
static void
night_over(struct rules *r, int64_t morning_ms)
{
	struct ep	*e = &r->slot[EP_OVERNIGHT];

	if (e->cand && !r->in_trip &&
	    morning_ms - e->since_ms >= OVERNIGHT_MIN_MS)
		ep_report_open(r, RULES_OVERNIGHT_PARKING, e);
	ep_close(r, RULES_OVERNIGHT_PARKING, e, morning_ms);
}

static void
eval_night(struct rules *r, int64_t t)
{
	const struct rules_config *c = &r->cfg;
	struct ep	*e = &r->slot[EP_OVERNIGHT];
	struct lt	 lt, plt, clt;
	struct calendar_date prev;
	int64_t		 base, pbase, check_ms, morning_ms;
	int		 cs = c->overnight_parking.check_min * 60;
	int		 ms = c->overnight_parking.morning_min * 60;
	int		 ymd, n;

	if (!local(r, t, &lt))
		return;
	base = t - t % MS;
	/*
	 * Nights jumped over (a replay, the gateway switched off): the end
	 * of the night the last input was in, then each check and morning
	 * up to t, at the instants they were due.
	 */
	if (r->now_ms != 0 && t > r->now_ms && local(r, r->now_ms, &plt)) {
		pbase = r->now_ms - r->now_ms % MS;
		if (night_sec(r, plt.sec) && (e->cand || e->open)) {
			morning_ms = pbase +
			    (int64_t)((ms - plt.sec + DAY_S) % DAY_S) * MS;
			if (morning_ms <= t)
				night_over(r, morning_ms);
		}
		check_ms = pbase + (int64_t)((cs - plt.sec + DAY_S) % DAY_S) * MS;
		if (check_ms == pbase)
			check_ms += (int64_t)DAY_S * MS;
		for (n = 0; n < MAX_NIGHTS && check_ms < t; n++) {
			if (local(r, check_ms, &clt) &&
			    r->night_checked != clt.ymd)
				night_check(r, clt.ymd, check_ms);
			morning_ms = check_ms +
			    (int64_t)((ms - cs + DAY_S) % DAY_S) * MS;
			if (morning_ms <= t)
				night_over(r, morning_ms);
			check_ms += (int64_t)DAY_S * MS;
		}
	}
	if (night_sec(r, lt.sec)) {
		if (lt.sec >= cs) {
			check_ms = base - (int64_t)(lt.sec - cs) * MS;
			ymd = lt.ymd;
		} else {
			check_ms = base - (int64_t)(lt.sec + DAY_S - cs) * MS;
			prev = lt.date;
			calendar_date_prev(&prev);
			ymd = prev.year * 10000 + prev.month * 100 + prev.day;
		}
		if (r->night_checked != ymd && check_ms >= r->now_ms)
			night_check(r, ymd, check_ms);
		else if (r->night_checked != ymd)
			r->night_checked = ymd;	/* started in the night */
		if (e->cand && !r->in_trip &&
		    t - e->since_ms >= OVERNIGHT_MIN_MS)
			ep_report_open(r, RULES_OVERNIGHT_PARKING, e);
	} else if (e->cand || e->open) {
		morning_ms = base - (int64_t)(lt.sec - ms) * MS;
		if (lt.sec < ms)
			morning_ms = base;
		night_over(r, morning_ms);
	}
}

/* Ignition off during the night, outside every parking fence. */
static void
night_trip_end(struct rules *r, int64_t t)
{
	struct ep	*e = &r->slot[EP_OVERNIGHT];
	struct lt	 lt;

	if (!local(r, t, &lt) || !night_sec(r, lt.sec) || e->open ||
	    !has_kind(r, FENCE_PARKING) || parked_ok(r))
		return;
	ep_reset(e);
	ep_true(r, RULES_OVERNIGHT_PARKING, e, t, OVERNIGHT_MIN_MS, true, NULL);
	e->a[0] = 1;
}

static int64_t
fence_dwell_s(const struct rules *r, const struct fence_info *fi)
{
	size_t	i;

	if (fi->dwell_s >= 0)
		return fi->dwell_s;
	for (i = 0; i < r->cfg.forbidden_place.ncategories; i++)
		if (strcmp(r->cfg.forbidden_place.categories[i].name,
		    fi->category) == 0)
			return r->cfg.forbidden_place.categories[i].dwell_s;
	return r->cfg.forbidden_place.dwell_s;
}

static void
eval_forbidden(struct rules *r, int64_t t, const struct hits *h)
{
	const struct fence_info	*fi;
	struct ep		*e;
	size_t			 i, j;
	bool			 seen[MAX_FORBIDDEN] = { false };
	int64_t			 dwell;

	for (i = 0; i < h->n; i++) {
		fi = hit_info(r, h, i);
		if (fi->kind != FENCE_FORBIDDEN)
			continue;
		for (j = 0; j < r->nforb; j++)
			if (strcmp(r->forb[j].key, fi->id) == 0)
				break;
		if (j == r->nforb) {
			if (r->nforb == MAX_FORBIDDEN ||
			    !active(r, RULES_FORBIDDEN_PLACE))
				continue;
			e = &r->forb[r->nforb++];
			memset(e, 0, sizeof(*e));
			util_strlcpy(e->key, fi->id, sizeof(e->key));
		}
		e = &r->forb[j];
		seen[j] = true;
		dwell = fence_dwell_s(r, fi);
		ep_true(r, RULES_FORBIDDEN_PLACE, e, t, dwell * MS, true,
		    fi->id);
		e->a[0] = (double)dwell;
	}
	for (j = 0; j < r->nforb; j++)
		if (!seen[j])
			ep_false(r, RULES_FORBIDDEN_PLACE, &r->forb[j], t,
			    (int64_t)r->cfg.forbidden_place.exit_s * MS);
	/* Forget fences left behind. */
	for (i = j = 0; i < r->nforb; i++)
		if (r->forb[i].cand || r->forb[i].open)
			r->forb[j++] = r->forb[i];
	r->nforb = j;
}

static void
eval_region(struct rules *r, int64_t t, const struct hits *h)
{
	struct ep	*e = &r->slot[EP_REGION];
	const char	*id = NULL;
	bool		 in;

	if (!has_kind(r, FENCE_REGION))
		return;
	in = hits_kind(r, h, FENCE_REGION, &id);
	if (in) {
		util_strlcpy(e->key, id, sizeof(e->key));
		ep_false(r, RULES_REGION_EXIT, e, t,
		    (int64_t)r->cfg.region_exit.reenter_s * MS);
		return;
	}
	if (covering(r, t) != NULL) {
		ep_false(r, RULES_REGION_EXIT, e, t, 0);
		return;
	}
	ep_true(r, RULES_REGION_EXIT, e, t,
	    (int64_t)r->cfg.region_exit.min_s * MS, true, e->key);
	if (e->cand || e->open) {
		if (!isfinite(e->lat))
			e->lat = r->fix_lat, e->lon = r->fix_lon;
		e->a[0] = fmax(e->a[0], geo_distance_m(e->lat, e->lon,
		    r->fix_lat, r->fix_lon));
	}
}

static void
eval_speed(struct rules *r, int64_t t, const struct hits *h)
{
	const struct rules_config *c = &r->cfg;
	const struct fence_info	*fi;
	struct ep	*e = &r->slot[EP_SPEEDING];
	double		 v = speed_now(r, t), limit = c->speeding.limit_kmh;
	const char	*fence = NULL;
	size_t		 i;

	if (c->vehicle_class >= 0 && c->vehicle_class < 4 &&
	    c->speeding.class_limit_kmh[c->vehicle_class] > 0.0)
		limit = c->speeding.class_limit_kmh[c->vehicle_class];
	for (i = 0; i < h->n; i++) {
		fi = hit_info(r, h, i);
		if (fi->speed_limit_kmh > 0.0 && fi->speed_limit_kmh < limit) {
			limit = fi->speed_limit_kmh;
			fence = fi->id;
		}
	}
	if (!isfinite(v) || v <= limit + c->speeding.tolerance_kmh) {
		ep_false(r, RULES_SPEEDING, e, t,
		    (int64_t)c->speeding.reset_s * MS);
		return;
	}
	if (e->cand || e->open) {
		e->a[1] = fmax(e->a[1], v);
		e->a[0] = fmin(e->a[0], limit);
	}
	ep_true(r, RULES_SPEEDING, e, t, (int64_t)c->speeding.min_s * MS,
	    false, fence);
	if (e->cand && e->a[0] == 0.0) {
		e->a[0] = limit;
		e->a[1] = v;
	}
}

static void
eval_idle(struct rules *r, int64_t t)
{
	struct ep	*e = &r->slot[EP_IDLE];
	double		 v = speed_now(r, t);

	if (engine_on(r, t) && isfinite(v) && v < STILL_KMH)
		ep_true(r, RULES_EXCESSIVE_IDLE, e, t,
		    (int64_t)r->cfg.excessive_idle.max_idle_s * MS, false,
		    NULL);
	else
		ep_false(r, RULES_EXCESSIVE_IDLE, e, t, 10 * MS);
}

/* Continuous driving; a rest is standing or parked for min_rest_s. */
static void
eval_fatigue(struct rules *r, int64_t t)
{
	const struct rules_config *c = &r->cfg;
	struct ep	*e = &r->slot[EP_FATIGUE];
	double		 v = speed_now(r, t);
	int64_t		 rest = (int64_t)c->fatigue_driving.min_rest_s * MS;
	int64_t		 max = (int64_t)c->fatigue_driving.max_drive_s * MS;
	bool		 moving = r->in_trip && isfinite(v) && v >= STILL_KMH;

	if (moving) {
		/* A rest with no input in it (the gateway was off). */
		if (r->rest_start_ms != 0 && t - r->rest_start_ms >= rest) {
			if (e->open) {
				e->a[0] = (double)((r->rest_start_ms -
				    r->drive_start_ms) / MS);
				ep_close(r, RULES_FATIGUE_DRIVING, e,
				    r->rest_start_ms);
			}
			r->drive_start_ms = 0;
		}
		r->rest_start_ms = 0;
		if (r->drive_start_ms == 0)
			r->drive_start_ms = t;
		e->last_true_ms = t;
		if (!e->open && t - r->drive_start_ms > max &&
		    active(r, RULES_FATIGUE_DRIVING)) {
			ep_reset(e);
			e->since_ms = r->drive_start_ms + max;
			e->last_true_ms = t;
			e->trip_id = r->trip_id;
			e->lat = r->have_fix ? r->fix_lat : NAN;
			e->lon = r->have_fix ? r->fix_lon : NAN;
			ep_report_open(r, RULES_FATIGUE_DRIVING, e);
		}
		return;
	}
	if (r->rest_start_ms == 0 && r->drive_start_ms != 0)
		r->rest_start_ms = e->last_true_ms != 0 &&
		    e->last_true_ms >= r->drive_start_ms ? e->last_true_ms : t;
	if (r->rest_start_ms != 0 && t - r->rest_start_ms >= rest) {
		if (e->open) {
			e->a[0] = (double)((r->rest_start_ms -
			    r->drive_start_ms) / MS);
			ep_close(r, RULES_FATIGUE_DRIVING, e, r->rest_start_ms);
		}
		r->drive_start_ms = 0;
		r->rest_start_ms = 0;
	}
}

static void
eval_gnss_lost(struct rules *r, int64_t t, bool fix_now)
{
	const struct rules_config *c = &r->cfg;
	struct ep	*e = &r->slot[EP_GNSS_LOST];
	bool		 lost = !r->have_fix || t - r->fix_ms > FIX_GAP_MS;

	if (fix_now) {
		ep_false(r, RULES_GNSS_LOST_WHILE_MOVING, e, t, 0);
		return;
	}
	if (lost && obd_fresh(r, t) && isfinite(r->obd_kmh) &&
	    r->obd_kmh >= c->gnss_lost_while_moving.min_speed_kmh) {
		if (!e->cand && !e->open) {
			ep_true(r, RULES_GNSS_LOST_WHILE_MOVING, e, t,
			    (int64_t)c->gnss_lost_while_moving.min_s * MS,
			    false, NULL);
			if (e->cand && r->have_fix && r->fix_ms < t &&
			    r->fix_ms >= r->trip_start_ms)
				e->since_ms = r->fix_ms;
		}
		ep_true(r, RULES_GNSS_LOST_WHILE_MOVING, e, t,
		    (int64_t)c->gnss_lost_while_moving.min_s * MS, false, NULL);
	} else if (!lost || !obd_fresh(r, t) || r->obd_kmh < 1.0)
		ep_false(r, RULES_GNSS_LOST_WHILE_MOVING, e, t, 60 * MS);
}

static void
eval_obd_lost(struct rules *r, int64_t t)
{
	struct ep	*e = &r->slot[EP_OBD_LOST];

	if (r->obd_link_known && !r->obd_link_up && r->in_trip)
		ep_true(r, RULES_OBD_LOST, e, t,
		    (int64_t)r->cfg.obd_lost.min_s * MS, true, NULL);
	else
		ep_false(r, RULES_OBD_LOST, e, t, 0);
}

/* Orders in use by the trip now; destinations reached; corridors. */
static void
eval_orders(struct rules *r, int64_t t, bool fix_now)
{
	struct order_state	*os;
	struct ep		*e = &r->slot[EP_CORRIDOR];
	int64_t			 grace = (int64_t)r->cfg.dispatch_grace_s * MS;
	long			 idx;
	bool			 outside = false;
	const char		*corr = NULL, *oid = NULL;
	size_t			 i;

	if (!r->in_trip)
		return;
	for (i = 0; i < r->norders; i++) {
		os = &r->orders[i];
		if (t < os->o.valid_from_ms - grace ||
		    t > os->o.valid_to_ms + grace)
			continue;
		if (!os->used || os->trip_id != r->trip_id) {
			if (!os->used)
				os->first_use_ms = t;
			os->used = true;
			os->trip_id = r->trip_id;
		}
		if (!fix_now)
			continue;
		if (os->o.has_dest_point && geo_distance_m(r->fix_lat,
		    r->fix_lon, os->o.dest_lat, os->o.dest_lon) <=
		    os->o.dest_radius_m)
			os->reached = true;
		if (os->o.dest_fence[0] != '\0' && r->fences != NULL &&
		    (idx = fence_set_find(r->fences, os->o.dest_fence)) >= 0 &&
		    fence_set_locate(r->fences, (size_t)idx, r->fix_lon,
		    r->fix_lat) != FENCE_OUT)
			os->reached = true;
		if (os->o.corridor_fence[0] != '\0' && r->fences != NULL &&
		    (idx = fence_set_find(r->fences,
		    os->o.corridor_fence)) >= 0) {
			corr = os->o.corridor_fence;
			oid = os->o.id;
			outside = fence_set_locate(r->fences, (size_t)idx,
			    r->fix_lon, r->fix_lat) == FENCE_OUT;
		}
	}
	if (!fix_now)
		return;
	if (outside) {
		if (!e->cand && !e->open)
			util_strlcpy(e->key, oid, sizeof(e->key));
		ep_true(r, RULES_DISPATCH_MISMATCH, e, t,
		    (int64_t)r->cfg.dispatch_mismatch.corridor_s * MS, false,
		    corr);
	} else
		ep_false(r, RULES_DISPATCH_MISMATCH, e, t, 60 * MS);
}

/* Windows that are over: was the destination reached? */
static void
orders_due(struct rules *r, int64_t t)
{
	struct order_state	*os;
	int64_t			 grace = (int64_t)r->cfg.dispatch_grace_s * MS;
	json_t			*d;
	size_t			 i;

	for (i = 0; i < r->norders; i++) {
		os = &r->orders[i];
		if (os->checked || t <= os->o.valid_to_ms + grace)
			continue;
		if (r->in_trip && os->trip_id == r->trip_id && os->used)
			continue;	/* verdict at the trip's end */
		os->checked = true;
		/* A destination it cannot locate: no verdict. */
		if (!os->used || os->reached || (!os->o.has_dest_point &&
		    (os->o.dest_fence[0] == '\0' || r->fences == NULL ||
		    fence_set_find(r->fences, os->o.dest_fence) < 0)))
			continue;
		d = json_pack("{s:s, s:s}", "reason", "destination_not_reached",
		    "order_id", os->o.id);
		if (os->o.has_dest_point) {
			jset_num(d, "dest_lon", os->o.dest_lon, 1e7);
			jset_num(d, "dest_lat", os->o.dest_lat, 1e7);
			jset_num(d, "dest_radius_m", os->o.dest_radius_m, 1);
		} else
			jset_fence(r, d, os->o.dest_fence);
		/* First used in the grace after its window: ends there. */
		instant(r, RULES_DISPATCH_MISMATCH, os->first_use_ms,
		    os->first_use_ms > os->o.valid_to_ms ? os->first_use_ms :
		    os->o.valid_to_ms, os->trip_id, r->have_fix ? r->fix_lat :
		    NAN, r->have_fix ? r->fix_lon : NAN, os->o.dest_fence, d);
	}
}

/* At a trip's end: did it run outside the window of an order it used? */
static void
orders_trip_end(struct rules *r, int64_t t)
{
	struct order_state	*os;
	int64_t			 grace = (int64_t)r->cfg.dispatch_grace_s * MS;
	int64_t			 early, late;
	json_t			*d;
	size_t			 i;

	for (i = 0; i < r->norders; i++) {
		os = &r->orders[i];
		if (!os->used || os->trip_id != r->trip_id)
			continue;
		early = os->o.valid_from_ms - grace - r->trip_start_ms;
		late = t - (os->o.valid_to_ms + grace);
		if (early <= 0 && late <= 0)
			continue;
		d = json_pack("{s:s, s:s, s:I, s:I}", "reason",
		    "outside_window", "order_id", os->o.id, "early_s",
		    (json_int_t)(early > 0 ? early / MS : 0), "late_s",
		    (json_int_t)(late > 0 ? late / MS : 0));
		instant(r, RULES_DISPATCH_MISMATCH, r->trip_start_ms, t,
		    r->trip_id, r->have_fix ? r->fix_lat : NAN,
		    r->have_fix ? r->fix_lon : NAN, "", d);
	}
}

static bool
in_window(const struct rules *r, int64_t t, const char **which)
{
	const struct rules_config *c = &r->cfg;
	struct lt	lt;
	int		m;

	if (!local(r, t, &lt))
		return false;
	m = lt.sec / 60;
	if (m >= c->commute_pattern.morning_from_min &&
	    m < c->commute_pattern.morning_to_min) {
		*which = "morning";
		return true;
	}
	if (m >= c->commute_pattern.evening_from_min &&
	    m < c->commute_pattern.evening_to_min) {
		*which = "evening";
		return true;
	}
	return false;
}

static void
commute_stop_end(struct rules *r, int64_t t)
{
	int64_t	s;

	if (r->stop_ms == 0)
		return;
	s = (t - r->stop_ms) / MS;
	if (s > r->cfg.commute_pattern.max_stop_s)
		r->long_stop = true;
	else if (s >= r->cfg.commute_pattern.min_stop_s) {
		r->nstops++;
		if (s > r->best_stop_s) {
			r->best_stop_s = s;
			r->best_stop_lat = r->stop_lat;
			r->best_stop_lon = r->stop_lon;
		}
	}
	r->stop_ms = 0;
}

/* Back at the office: was it a pick-up or drop-off run (接送)? */
static void
commute_back(struct rules *r, int64_t t, const char *office)
{
	const struct rules_config *c = &r->cfg;
	const char	*which = NULL;
	json_t		*d;

	commute_stop_end(r, t);
	r->out = false;
	if (r->nstops == 0 || r->long_stop ||
	    t - r->out_ms > (int64_t)c->commute_pattern.max_round_s * MS ||
	    r->out_far_m > c->commute_pattern.max_distance_m ||
	    covering(r, r->out_ms) != NULL || covering(r, t) != NULL)
		return;
	if (!in_window(r, r->out_ms, &which) && !in_window(r, t, &which))
		return;
	d = json_pack("{s:s, s:I, s:I, s:I}", "window", which, "round_s",
	    (json_int_t)((t - r->out_ms) / MS), "stop_s",
	    (json_int_t)r->best_stop_s, "stops", (json_int_t)r->nstops);
	jset_num(d, "farthest_m", r->out_far_m, 1);
	jset_fence(r, d, office);
	instant(r, RULES_COMMUTE_PATTERN, r->out_ms, t, r->trip_id,
	    r->best_stop_lat, r->best_stop_lon, office, d);
}

static void
eval_commute(struct rules *r, int64_t t, const struct hits *h,
    double prev_lat, double prev_lon, int64_t prev_ms, bool had_prev)
{
	const char	*office = NULL;
	bool		 in = hits_kind(r, h, FENCE_OFFICE, &office);
	double		 v = r->fix_kmh;

	if (!has_kind(r, FENCE_OFFICE))
		return;
	if (!r->office_known) {
		r->office_known = true;
		r->in_office = in;
		return;
	}
	if (r->in_office && !in) {
		r->out = true;
		r->out_ms = t;
		r->out_lat = r->fix_lat;
		r->out_lon = r->fix_lon;
		r->out_far_m = 0;
		r->stop_ms = 0;
		r->nstops = 0;
		r->long_stop = false;
		r->best_stop_s = 0;
		r->best_stop_lat = r->best_stop_lon = NAN;
	} else if (!r->in_office && in && r->out)
		commute_back(r, t, office);
	r->in_office = in;
	if (!r->out)
		return;
	r->out_far_m = fmax(r->out_far_m, geo_distance_m(r->out_lat,
	    r->out_lon, r->fix_lat, r->fix_lon));
	/* A silent gap that did not move is a stop (engine off, no fix). */
	if (had_prev && r->stop_ms == 0 && t - prev_ms > FIX_GAP_MS &&
	    geo_distance_m(prev_lat, prev_lon, r->fix_lat, r->fix_lon) <
	    STOP_MAX_MOVE_M) {
		r->stop_ms = prev_ms;
		r->stop_lat = prev_lat;
		r->stop_lon = prev_lon;
	}
	if (!isfinite(v) || v < STILL_KMH) {
		if (r->stop_ms == 0) {
			r->stop_ms = t;
			r->stop_lat = r->fix_lat;
			r->stop_lon = r->fix_lon;
		}
	} else if (v >= MOVING_KMH)
		commute_stop_end(r, t);
}

/* ---------------------------------------------------------------- time */

static void
advance(struct rules *r, int64_t t)
{
	size_t	i;

	if (t < r->now_ms)
		return;
	eval_night(r, t);
	orders_due(r, t);
	for (i = 0; i < EP_NSLOTS; i++)
		if (i != EP_FATIGUE && i != EP_OVERNIGHT)
			ep_tick(r, slot_type[i], &r->slot[i], t,
			    i == EP_SPEEDING ?
			    (int64_t)r->cfg.speeding.reset_s * MS :
			    i == EP_REGION ?
			    (int64_t)r->cfg.region_exit.reenter_s * MS :
			    i == EP_AFTER_HOURS ?
			    (int64_t)r->cfg.after_hours_use.merge_s * MS :
			    i == EP_HOLIDAY ?
			    (int64_t)r->cfg.holiday_use.merge_s * MS :
			    i == EP_IDLE ? 10 * MS : 60 * MS);
	for (i = 0; i < r->nforb; i++)
		ep_tick(r, RULES_FORBIDDEN_PLACE, &r->forb[i], t,
		    (int64_t)r->cfg.forbidden_place.exit_s * MS);
	r->now_ms = t;
}

/* --------------------------------------------------------------- inputs */

/* After a start: compare the level with the one the car was parked with. */
static void
fuel_check(struct rules *r, int64_t t)
{
	const struct rules_config *c = &r->cfg;
	double	after, drop, litres;
	double	v = speed_now(r, t);
	json_t	*d;

	if (!r->fuel_pending || !r->in_trip)
		return;
	if (t - r->trip_start_ms < FUEL_WINDOW_MS &&
	    !(isfinite(v) && v >= MOVING_KMH))
		return;
	if (r->fuel_n_start == 0) {
		if (t - r->trip_start_ms >= 2 * FUEL_WINDOW_MS)
			r->fuel_pending = false;	/* no level read */
		return;
	}
	r->fuel_pending = false;
	after = r->fuel_sum_start / r->fuel_n_start;
	drop = r->park_level - after;
	litres = isfinite(c->fuel_drop.tank_l) ? drop / 100.0 *
	    c->fuel_drop.tank_l : NAN;
	if (drop >= c->fuel_drop.min_drop_pct || (c->fuel_drop.min_drop_l > 0 &&
	    isfinite(litres) && litres >= c->fuel_drop.min_drop_l)) {
		d = json_object();
		jset_num(d, "level_before_pct", r->park_level, 10);
		jset_num(d, "level_after_pct", after, 10);
		jset_num(d, "drop_pct", drop, 10);
		jset_num(d, "drop_l", litres, 10);
		instant(r, RULES_FUEL_DROP, r->park_ms, r->trip_start_ms,
		    r->trip_id, r->park_lat, r->park_lon, "", d);
	}
	r->park_level = NAN;
}

void
rules_on_fix(struct rules *r, const struct fix *fx)
{
	struct hits	 h;
	int64_t		 t = fx->t_utc_ms, prev_ms = r->fix_ms;
	double		 plat = r->fix_lat, plon = r->fix_lon, d = NAN, gap_s;
	bool		 had = r->have_fix;
	json_t		*det;

	if (!isfinite(fx->lat_deg) || !isfinite(fx->lon_deg))
		return;
	if (t < r->now_ms)
		t = r->now_ms;
	advance(r, t);
	if (had)
		d = geo_distance_m(plat, plon, fx->lat_deg, fx->lon_deg);
	/* position_jump: further than any car could have gone. */
	if (had && t > prev_ms && d >= r->cfg.position_jump.min_jump_m) {
		gap_s = (double)(t - prev_ms) / MS;
		if (d / gap_s * 3.6 > r->cfg.position_jump.max_kmh) {
			det = json_object();
			jset_num(det, "from_lat", plat, 1e7);
			jset_num(det, "from_lon", plon, 1e7);
			jset_num(det, "distance_m", d, 1);
			jset_num(det, "gap_s", gap_s, 1000);
			jset_num(det, "implied_kmh", d / gap_s * 3.6, 10);
			instant(r, RULES_POSITION_JUMP, prev_ms, t,
			    r->in_trip ? r->trip_id : 0, fx->lat_deg,
			    fx->lon_deg, "", det);
		}
	}
	if (had && isfinite(d) && d < 5000.0) {
		if (r->slot[EP_AFTER_HOURS].cand || r->slot[EP_AFTER_HOURS].open)
			r->slot[EP_AFTER_HOURS].a[0] += d;
		if (r->slot[EP_HOLIDAY].cand || r->slot[EP_HOLIDAY].open)
			r->slot[EP_HOLIDAY].a[0] += d;
	}
	r->have_fix = true;
	r->fix_ms = t;
	r->fix_lat = fx->lat_deg;
	r->fix_lon = fx->lon_deg;
	r->fix_kmh = isfinite(fx->speed_mps) ? fx->speed_mps * 3.6 : NAN;

	query(r, r->fix_lat, r->fix_lon, &h);
	eval_gnss_lost(r, t, true);
	eval_use(r, t);
	eval_region(r, t, &h);
	eval_forbidden(r, t, &h);
	eval_orders(r, t, true);
	eval_commute(r, t, &h, plat, plon, prev_ms, had);
	eval_speed(r, t, &h);
	eval_idle(r, t);
	eval_fatigue(r, t);
	eval_obd_lost(r, t);
}

void
rules_on_obd(struct rules *r, const struct obd_sample *s, int64_t t)
{
	struct ep	*e = &r->slot[EP_GNSS_LOST];
	json_t		*d;
	int64_t		 prev = r->obd_ms;
	double		 pkmh = r->obd_kmh;

	if (s == NULL || !record_obd_any(s))
		return;
	if (t < r->now_ms)
		t = r->now_ms;
	advance(r, t);
	r->obd_ms = t;
	r->obd_rpm = s->rpm;
	r->obd_kmh = s->speed_kmh;
	if ((e->cand || e->open) && prev != 0 && isfinite(pkmh) &&
	    t - prev <= OBD_FRESH_MS) {
		e->a[0] += pkmh / 3.6 * (double)(t - prev) / MS;
		if (isfinite(s->speed_kmh))
			e->a[1] = fmax(e->a[1], s->speed_kmh);
	}
	if (s->mil_on == 1 && r->mil_on == 0) {
		d = json_pack("{s:b}", "mil_on", 1);
		instant(r, RULES_DTC, t, t, r->in_trip ? r->trip_id : 0,
		    r->have_fix ? r->fix_lat : NAN,
		    r->have_fix ? r->fix_lon : NAN, "", d);
	}
	if (s->mil_on >= 0)
		r->mil_on = s->mil_on;
	/* fuel level: the last minute of a trip, the first of the next */
	if (isfinite(s->fuel_level_pct)) {
		if (r->in_trip && r->fuel_pending &&
		    t - r->trip_start_ms <= FUEL_WINDOW_MS) {
			r->fuel_sum_start += s->fuel_level_pct;
			r->fuel_n_start += 1;
		}
		if (r->in_trip) {
			if (t - r->fuel_win_ms > FUEL_WINDOW_MS) {
				/* two buckets: the last 60..120 s */
				r->fuel_sum_prev = r->fuel_sum_end;
				r->fuel_n_prev = r->fuel_n_end;
				r->fuel_sum_end = 0;
				r->fuel_n_end = 0;
				r->fuel_win_ms = t;
			}
			r->fuel_sum_end += s->fuel_level_pct;
			r->fuel_n_end += 1;
		}
	}
	fuel_check(r, t);
	eval_gnss_lost(r, t, false);
	eval_use(r, t);
	eval_idle(r, t);
	eval_fatigue(r, t);
	eval_obd_lost(r, t);
}

void
rules_on_obd_link(struct rules *r, bool up, int64_t t)
{
	if (t < r->now_ms)
		t = r->now_ms;
	advance(r, t);
	r->obd_link_known = true;
	r->obd_link_up = up;
	eval_obd_lost(r, t);
}

static bool
dtc_known(const struct rules *r, const char *code)
{
	size_t	i;

	for (i = 0; i < r->ndtc; i++)
		if (strcmp(r->dtc[i], code) == 0)
			return true;
	return false;
}

void
rules_on_dtcs(struct rules *r, const struct obd_dtc *dtcs, size_t n,
    int64_t t)
{
	json_t	*fresh, *all, *d;
	size_t	 i;

	if (t < r->now_ms)
		t = r->now_ms;
	advance(r, t);
	fresh = json_array();
	all = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(all, json_string(dtcs[i].code));
		if (!dtc_known(r, dtcs[i].code))
			json_array_append_new(fresh, json_pack("{s:s, s:i}",
			    "code", dtcs[i].code, "mode", dtcs[i].mode));
	}
	r->ndtc = 0;
	for (i = 0; i < n && r->ndtc < MAX_DTCS; i++)
		if (!dtc_known(r, dtcs[i].code))
			util_strlcpy(r->dtc[r->ndtc++], dtcs[i].code,
			    sizeof(r->dtc[0]));
	r->dtc_known = true;
	if (json_array_size(fresh) == 0) {
		json_decref(fresh);
		json_decref(all);
		return;
	}
	d = json_pack("{s:o, s:o}", "new", fresh, "active", all);
	instant(r, RULES_DTC, t, t, r->in_trip ? r->trip_id : 0,
	    r->have_fix ? r->fix_lat : NAN, r->have_fix ? r->fix_lon : NAN, "",
	    d);
}

/*
 * A trip's start and end times may lie before the engine's clock (the
 * trip tracker dates an end back to the ignition going off): they are
 * used as given for the episodes they begin or end, and time advances to
 * the later of the two.
 */
void
rules_trip_start(struct rules *r, uint64_t trip_id, int64_t ts)
{
	int64_t	t = ts < r->now_ms ? r->now_ms : ts;

	advance(r, t);
	ep_close(r, RULES_OVERNIGHT_PARKING, &r->slot[EP_OVERNIGHT], ts);
	r->in_trip = true;
	r->trip_id = trip_id;
	r->trip_start_ms = ts;
	r->fuel_pending = isfinite(r->park_level);
	r->fuel_sum_start = r->fuel_n_start = 0;
	r->fuel_sum_end = r->fuel_n_end = 0;
	r->fuel_sum_prev = r->fuel_n_prev = 0;
	r->fuel_win_ms = t;
	eval_use(r, t);
}

void
rules_trip_end(struct rules *r, uint64_t trip_id, int64_t te)
{
	int64_t	t = te < r->now_ms ? r->now_ms : te;
	double	sum, n;

	advance(r, t);
	if (trip_id != 0)
		r->trip_id = trip_id;
	ep_trip_end(r, RULES_AFTER_HOURS_USE, &r->slot[EP_AFTER_HOURS], te);
	ep_trip_end(r, RULES_HOLIDAY_USE, &r->slot[EP_HOLIDAY], te);
	ep_trip_end(r, RULES_DISPATCH_MISMATCH, &r->slot[EP_CORRIDOR], te);
	ep_trip_end(r, RULES_SPEEDING, &r->slot[EP_SPEEDING], te);
	ep_trip_end(r, RULES_OBD_LOST, &r->slot[EP_OBD_LOST], te);
	ep_trip_end(r, RULES_GNSS_LOST_WHILE_MOVING, &r->slot[EP_GNSS_LOST],
	    te);
	orders_trip_end(r, te);
	sum = r->fuel_sum_end + r->fuel_sum_prev;
	n = r->fuel_n_end + r->fuel_n_prev;
	if (r->fuel_n_end >= 3) {
		sum = r->fuel_sum_end;
		n = r->fuel_n_end;
	}
	r->park_level = n > 0 ? sum / n : NAN;
	r->park_ms = te;
	r->park_lat = r->have_fix ? r->fix_lat : NAN;
	r->park_lon = r->have_fix ? r->fix_lon : NAN;
	r->fuel_pending = false;
	r->in_trip = false;
	night_trip_end(r, te);
	eval_fatigue(r, t);
	r->trip_id = 0;
}

/*
 * A trip that the trip module closed because the previous run died: the
 * car may well have gone on (a restart takes seconds), so the episodes
 * it was in are not ended here; they continue if their condition holds
 * at the next inputs and end by their own off times otherwise.
 */
void
rules_trip_lost(struct rules *r, uint64_t trip_id, int64_t te)
{
	(void)trip_id;
	if (te > r->now_ms)
		advance(r, te);
	r->in_trip = false;
	r->trip_id = 0;
}

void
rules_on_clock(struct rules *r, int64_t gnss, int64_t sys)
{
	struct ep	*e = &r->slot[EP_CLOCK];
	int64_t		 off = sys - gnss;

	if (gnss < r->now_ms)
		gnss = r->now_ms;
	advance(r, gnss);
	if (llabs(off) > (int64_t)r->cfg.clock_jump.tolerance_s * MS) {
		if (!e->cand && !e->open)
			e->a[0] = (double)off;	/* for the OPEN, at once */
		else if (llabs(off) > llabs((int64_t)e->a[0]))
			e->a[0] = (double)off;
		ep_true(r, RULES_CLOCK_JUMP, e, gnss, 0, true, NULL);
	} else
		ep_false(r, RULES_CLOCK_JUMP, e, gnss, CLOCK_OFF_MS);
}

void
rules_power_loss(struct rules *r, int64_t last, int64_t now, bool in_trip)
{
	json_t	*d;

	if (now < r->now_ms)
		now = r->now_ms;
	if (last <= 0 || last > now)
		last = now;
	advance(r, now);
	d = json_pack("{s:I, s:b}", "gap_s", (json_int_t)((now - last) / MS),
	    "in_trip", in_trip);
	instant(r, RULES_POWER_LOSS, last, now, 0,
	    r->have_fix ? r->fix_lat : NAN, r->have_fix ? r->fix_lon : NAN, "",
	    d);
}

void
rules_tick(struct rules *r, int64_t now)
{
	if (now <= r->now_ms)
		return;
	advance(r, now);
	eval_use(r, now);
	eval_gnss_lost(r, now, false);
	eval_idle(r, now);
	eval_fatigue(r, now);
	eval_obd_lost(r, now);
	fuel_check(r, now);
}

/* ------------------------------------------------------------ lifetime */

struct rules *
rules_new(const struct rules_config *cfg, rules_localtime_fn *lt, void *ltarg,
    rules_cb *cb, void *cbarg)
{
	struct rules	*r = xcalloc(1, sizeof(*r));
	size_t		 i;

	r->cfg = *cfg;
	r->localtime = lt;
	r->ltarg = ltarg;
	r->cb = cb;
	r->cbarg = cbarg;
	r->next_id = 1;
	r->mil_on = -1;
	r->park_level = NAN;
	r->fix_lat = r->fix_lon = r->fix_kmh = NAN;
	r->obd_rpm = r->obd_kmh = NAN;
	for (i = 0; i < EP_NSLOTS; i++)
		ep_reset(&r->slot[i]);
	return r;
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	free(r->orders);
	free(r);
}

void
rules_set_config(struct rules *r, const struct rules_config *cfg)
{
	r->cfg = *cfg;
}

void
rules_set_calendar(struct rules *r, const struct calendar *cal)
{
	r->cal = cal;
}

void
rules_set_fences(struct rules *r, const struct fence_set *set)
{
	r->fences = set;
}

/* Keep the progress of orders that stay (by id). */
void
rules_set_orders(struct rules *r, const struct rules_order *o, size_t n)
{
	struct order_state	*nw;
	size_t			 i, j;

	if (n > MAX_ORDERS)
		n = MAX_ORDERS;
	nw = xcalloc(n > 0 ? n : 1, sizeof(*nw));
	for (i = 0; i < n; i++) {
		nw[i].o = o[i];
		for (j = 0; j < r->norders; j++)
			if (strcmp(r->orders[j].o.id, o[i].id) == 0) {
				nw[i].used = r->orders[j].used;
				nw[i].reached = r->orders[j].reached;
				nw[i].checked = r->orders[j].checked;
				nw[i].first_use_ms = r->orders[j].first_use_ms;
				nw[i].trip_id = r->orders[j].trip_id;
				break;
			}
	}
	free(r->orders);
	r->orders = nw;
	r->norders = n;
}

size_t
rules_open_count(const struct rules *r)
{
	size_t	i, n = 0;

	for (i = 0; i < EP_NSLOTS; i++)
		n += r->slot[i].open;
	for (i = 0; i < r->nforb; i++)
		n += r->forb[i].open;
	return n;
}

/* ---------------------------------------------------------------- state */

#define STATE_VERSION	1

/*
 * A restored state comes from the database, which may have been copied,
 * edited or damaged.  Values the engine could not have saved are refused
 * here rather than guarded against in the arithmetic that uses them.
 */
#define STATE_TIME_MAX_MS INT64_C(4102444800000) /* 2100-01-01 UTC */
#define STATE_ID_MAX	(INT64_C(1) << 53)	/* exact as a double */
#define STATE_COUNT_MAX	1000000000		/* commute stops */
#define STATE_NUM_MAX	1e15	/* |a[]|: some become seconds, ms */
#define STATE_YMD_MAX	99991231		/* night_checked */

/* An episode's number as saved and restored: NaN, or within +-1e15. */
static double
state_num(double v)
{
	return isnan(v) ? v : fmax(-STATE_NUM_MAX, fmin(v, STATE_NUM_MAX));
}

static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static double
jget_num(const json_t *o, const char *k)
{
	const json_t	*v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int64_t
jget_int(const json_t *o, const char *k)
{
	const json_t	*v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* An int member in [min, max] (0 when absent); else *ok = false. */
static int
jget_int_in(const json_t *o, const char *k, int min, int max, bool *ok)
{
	int64_t	v = jget_int(o, k);

	if (v < min || v > max) {
		*ok = false;
		return min;
	}
	return (int)v;
}

static bool
jget_bool(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

/* false if the string does not fit (it would be cut, maybe mid-UTF-8) */
static bool
jget_str(const json_t *o, const char *k, char *buf, size_t len)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return util_strlcpy(buf, s != NULL ? s : "", len) < len;
}

static json_t *
ep_save(const struct ep *e)
{
	json_t	*o, *a;
	size_t	 i;

	a = json_array();
	for (i = 0; i < 4; i++)
		json_array_append_new(a, jnum(state_num(e->a[i])));
	o = json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:s, "
	    "s:s, s:o}", "cand", e->cand, "open", e->open, "id",
	    (json_int_t)e->id, "since", (json_int_t)e->since_ms, "last_true",
	    (json_int_t)e->last_true_ms, "false", (json_int_t)e->false_ms,
	    "trip", (json_int_t)e->trip_id, "lat", jnum(e->lat), "lon",
	    jnum(e->lon), "fence", e->fence, "key", e->key, "a", a);
	return o;
}

/* false if a string does not fit */
static bool
ep_load(struct ep *e, const json_t *o)
{
	const json_t	*a = json_object_get(o, "a");
	size_t		 i;
	bool		 ok;

	ep_reset(e);
	e->cand = jget_bool(o, "cand");
	e->open = jget_bool(o, "open");
	e->id = (uint64_t)jget_int(o, "id");
	e->since_ms = jget_int(o, "since");
	e->last_true_ms = jget_int(o, "last_true");
	e->false_ms = jget_int(o, "false");
	e->trip_id = (uint64_t)jget_int(o, "trip");
	e->lat = jget_num(o, "lat");
	e->lon = jget_num(o, "lon");
	ok = jget_str(o, "fence", e->fence, sizeof(e->fence));
	ok &= jget_str(o, "key", e->key, sizeof(e->key));
	for (i = 0; i < 4; i++) {
		e->a[i] = json_is_number(json_array_get(a, i)) ?
		    json_number_value(json_array_get(a, i)) : 0.0;
		e->a[i] = state_num(e->a[i]);
	}
	if (e->open && e->id == 0)
		e->open = false;
	e->restored = e->cand || e->open;
	return ok;
}

static bool
state_time_ok(int64_t t, int64_t now)
{
	return t >= 0 && t <= now;
}

/* Times up to the engine's clock, an open id from the counter. */
static bool
ep_sane(const struct ep *e, int64_t now, uint64_t next_id)
{
	return state_time_ok(e->since_ms, now) &&
	    state_time_ok(e->last_true_ms, now) &&
	    state_time_ok(e->false_ms, now) && e->trip_id <= INT64_MAX &&
	    (!e->open || (!e->cand && e->id < next_id));
}

/* Everything rules_restore() loaded is something the engine can save. */
static bool
state_sane(const struct rules *r)
{
	const struct ep	*e[EP_NSLOTS + MAX_FORBIDDEN];
	int64_t		 now = r->now_ms;
	size_t		 i, j, n = 0;

	if (now < 0 || now > STATE_TIME_MAX_MS || r->next_id < 1 ||
	    r->next_id > (uint64_t)STATE_ID_MAX ||
	    r->trip_id > INT64_MAX || !state_time_ok(r->trip_start_ms, now) ||
	    (r->have_fix && !state_time_ok(r->fix_ms, now)) ||
	    !state_time_ok(r->drive_start_ms, now) ||
	    !state_time_ok(r->rest_start_ms, now) ||
	    !state_time_ok(r->park_ms, now) ||
	    !state_time_ok(r->out_ms, now) ||
	    !state_time_ok(r->stop_ms, now) || r->best_stop_s < 0 ||
	    r->best_stop_s > now / MS)
		return false;
	for (i = 0; i < EP_NSLOTS; i++)
		e[n++] = &r->slot[i];
	for (i = 0; i < r->nforb; i++)
		e[n++] = &r->forb[i];
	for (i = 0; i < n; i++) {
		if (!ep_sane(e[i], now, r->next_id))
			return false;
		for (j = 0; j < i && e[i]->open; j++)
			if (e[j]->open && e[j]->id == e[i]->id)
				return false;	/* one id, two episodes */
	}
	return true;
}

/* The progress of the orders in state array v (any order id). */
static bool
orders_sane(const json_t *v, int64_t now)
{
	const json_t	*o;
	size_t		 i;

	for (i = 0; i < json_array_size(v); i++) {
		o = json_array_get(v, i);
		if (!state_time_ok(jget_int(o, "first_use"), now) ||
		    jget_int(o, "trip") < 0)
			return false;
	}
	return true;
}

json_t *
rules_save(const struct rules *r)
{
	json_t	*o, *eps, *forb, *dtc, *ord;
	size_t	 i;

	eps = json_object();
	for (i = 0; i < EP_NSLOTS; i++)
		if (r->slot[i].cand || r->slot[i].open || r->slot[i].key[0])
			json_object_set_new(eps, i == EP_CORRIDOR ?
			    "dispatch_corridor" : rules_type_name(slot_type[i]),
			    ep_save(&r->slot[i]));
	forb = json_array();
	for (i = 0; i < r->nforb; i++)
		json_array_append_new(forb, ep_save(&r->forb[i]));
	dtc = json_array();
	for (i = 0; i < r->ndtc; i++)
		json_array_append_new(dtc, json_string(r->dtc[i]));
	ord = json_array();
	for (i = 0; i < r->norders; i++) {
		if (!r->orders[i].used && !r->orders[i].checked)
			continue;
		json_array_append_new(ord, json_pack("{s:s, s:b, s:b, s:b, "
		    "s:I, s:I}", "id", r->orders[i].o.id, "used",
		    r->orders[i].used, "reached", r->orders[i].reached,
		    "checked", r->orders[i].checked, "first_use",
		    (json_int_t)r->orders[i].first_use_ms, "trip",
		    (json_int_t)r->orders[i].trip_id));
	}
	o = json_object();
	json_object_set_new(o, "version", json_integer(STATE_VERSION));
	json_object_set_new(o, "next_id", json_integer((json_int_t)r->next_id));
	json_object_set_new(o, "now", json_integer(r->now_ms));
	json_object_set_new(o, "trip", json_pack("{s:b, s:I, s:I}", "in",
	    r->in_trip, "id", (json_int_t)r->trip_id, "start",
	    (json_int_t)r->trip_start_ms));
	if (r->have_fix)
		json_object_set_new(o, "fix", json_pack("{s:I, s:o, s:o, s:o}",
		    "t", (json_int_t)r->fix_ms, "lat", jnum(r->fix_lat), "lon",
		    jnum(r->fix_lon), "kmh", jnum(r->fix_kmh)));
	json_object_set_new(o, "mil_on", json_integer(r->mil_on));
	json_object_set_new(o, "episodes", eps);
	json_object_set_new(o, "forbidden", forb);
	json_object_set_new(o, "night_checked", json_integer(r->night_checked));
	json_object_set_new(o, "fatigue", json_pack("{s:I, s:I}", "drive",
	    (json_int_t)r->drive_start_ms, "rest",
	    (json_int_t)r->rest_start_ms));
	json_object_set_new(o, "park", json_pack("{s:o, s:I, s:o, s:o}",
	    "level", jnum(r->park_level), "t", (json_int_t)r->park_ms, "lat",
	    jnum(r->park_lat), "lon", jnum(r->park_lon)));
	json_object_set_new(o, "dtc", dtc);
	json_object_set_new(o, "dtc_known", json_boolean(r->dtc_known));
	json_object_set_new(o, "commute", json_pack("{s:b, s:b, s:b, s:I, "
	    "s:o, s:o, s:o, s:I, s:o, s:o, s:i, s:b, s:I, s:o, s:o}",
	    "known", r->office_known, "in", r->in_office, "out", r->out,
	    "out_t", (json_int_t)r->out_ms, "out_lat", jnum(r->out_lat),
	    "out_lon", jnum(r->out_lon), "far", jnum(r->out_far_m),
	    "stop_t", (json_int_t)r->stop_ms, "stop_lat", jnum(r->stop_lat),
	    "stop_lon", jnum(r->stop_lon), "stops", r->nstops, "long_stop",
	    r->long_stop, "best_s", (json_int_t)r->best_stop_s, "best_lat",
	    jnum(r->best_stop_lat), "best_lon", jnum(r->best_stop_lon)));
	json_object_set_new(o, "orders", ord);
	return o;
}

int
rules_restore(struct rules *r, const json_t *st)
{
	const json_t	*eps, *forb, *v, *c, *o, *fix, *dtc;
	const char	*name;
	enum rules_type	 t;
	struct rules	*was;
	size_t		 i, j;
	bool		 ok = true;

	if (!json_is_object(st) || jget_int(st, "version") != STATE_VERSION ||
	    jget_int(st, "next_id") < 1)
		return -1;
	/* Loaded, then checked: -1 puts r back as it was. */
	was = xmalloc(sizeof(*was));
	*was = *r;
	r->next_id = (uint64_t)jget_int(st, "next_id");
	r->now_ms = jget_int(st, "now");
	v = json_object_get(st, "trip");
	r->in_trip = jget_bool(v, "in");
	r->trip_id = (uint64_t)jget_int(v, "id");
	r->trip_start_ms = jget_int(v, "start");
	if ((fix = json_object_get(st, "fix")) != NULL &&
	    isfinite(jget_num(fix, "lat")) && isfinite(jget_num(fix, "lon"))) {
		r->have_fix = true;
		r->fix_ms = jget_int(fix, "t");
		r->fix_lat = jget_num(fix, "lat");
		r->fix_lon = jget_num(fix, "lon");
		r->fix_kmh = jget_num(fix, "kmh");
	}
	r->mil_on = json_is_integer(json_object_get(st, "mil_on")) ?
	    jget_int_in(st, "mil_on", -1, 1, &ok) : -1;
	eps = json_object_get(st, "episodes");
	json_object_foreach((json_t *)eps, name, v) {
		if (strcmp(name, "dispatch_corridor") == 0) {
			ok &= ep_load(&r->slot[EP_CORRIDOR], v);
			continue;
		}
		if (rules_type_parse(name, &t) == -1)
			continue;
		for (i = 0; i < EP_NSLOTS; i++)
			if (slot_type[i] == t && i != EP_CORRIDOR)
				ok &= ep_load(&r->slot[i], v);
	}
	forb = json_object_get(st, "forbidden");
	r->nforb = 0;
	for (i = 0; i < json_array_size(forb) && r->nforb < MAX_FORBIDDEN; i++)
		ok &= ep_load(&r->forb[r->nforb++], json_array_get(forb, i));
	r->night_checked = jget_int_in(st, "night_checked", 0, STATE_YMD_MAX,
	    &ok);
	v = json_object_get(st, "fatigue");
	r->drive_start_ms = jget_int(v, "drive");
	r->rest_start_ms = jget_int(v, "rest");
	v = json_object_get(st, "park");
	r->park_level = jget_num(v, "level");
	r->park_ms = jget_int(v, "t");
	r->park_lat = jget_num(v, "lat");
	r->park_lon = jget_num(v, "lon");
	dtc = json_object_get(st, "dtc");
	r->ndtc = 0;
	for (i = 0; i < json_array_size(dtc) && r->ndtc < MAX_DTCS; i++)
		if (json_is_string(json_array_get(dtc, i)))
			ok &= util_strlcpy(r->dtc[r->ndtc++], json_string_value(
			    json_array_get(dtc, i)), sizeof(r->dtc[0])) <
			    sizeof(r->dtc[0]);
	r->dtc_known = jget_bool(st, "dtc_known");
	c = json_object_get(st, "commute");
	r->office_known = jget_bool(c, "known");
	r->in_office = jget_bool(c, "in");
	r->out = jget_bool(c, "out");
	r->out_ms = jget_int(c, "out_t");
	r->out_lat = jget_num(c, "out_lat");
	r->out_lon = jget_num(c, "out_lon");
	r->out_far_m = jget_num(c, "far");
	if (!isfinite(r->out_far_m))
		r->out_far_m = 0;
	r->stop_ms = jget_int(c, "stop_t");
	r->stop_lat = jget_num(c, "stop_lat");
	r->stop_lon = jget_num(c, "stop_lon");
	r->nstops = jget_int_in(c, "stops", 0, STATE_COUNT_MAX, &ok);
	r->long_stop = jget_bool(c, "long_stop");
	r->best_stop_s = jget_int(c, "best_s");
	r->best_stop_lat = jget_num(c, "best_lat");
	r->best_stop_lon = jget_num(c, "best_lon");
	v = json_object_get(st, "orders");
	if (!ok || !state_sane(r) || !orders_sane(v, r->now_ms)) {
		*r = *was;
		free(was);
		return -1;
	}
	free(was);
	/* Order progress, matched by id now or when the orders are set. */
	for (i = 0; i < json_array_size(v); i++) {
		o = json_array_get(v, i);
		for (j = 0; j < r->norders; j++) {
			if (json_string_value(json_object_get(o, "id")) ==
			    NULL || strcmp(r->orders[j].o.id,
			    json_string_value(json_object_get(o, "id"))) != 0)
				continue;
			r->orders[j].used = jget_bool(o, "used");
			r->orders[j].reached = jget_bool(o, "reached");
			r->orders[j].checked = jget_bool(o, "checked");
			r->orders[j].first_use_ms = jget_int(o, "first_use");
			r->orders[j].trip_id = (uint64_t)jget_int(o, "trip");
		}
	}
	return 0;
}
