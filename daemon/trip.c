/* SPDX-License-Identifier: MIT */
/*
 * trip.c - trip state machine; see trip.h for the rules.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "geo.h"
#include "trip.h"

#define NONE		INT64_MIN	/* "no such moment" */
#define MPS2KMH		3.6
#define MS_PER_S	1000.0
#define MS_PER_H	3600000.0
/* A fix this old no longer tells the current speed. */
#define FIX_FRESH_MS	3000

static double	seg_plausible(const struct trip_tracker *, double, int64_t);
static bool	obd_fresh(const struct trip_tracker *, int64_t);
static bool	engine_on(const struct trip_tracker *, int64_t);
static void	account(struct trip_tracker *, int64_t);
static void	refresh(struct trip_tracker *);
static void	emit(struct trip_tracker *, enum trip_event_type, int64_t,
		    double, double);
static void	start(struct trip_tracker *, int64_t, double, double);
static void	finish(struct trip_tracker *, int64_t, enum trip_end);
static void	timeouts(struct trip_tracker *, int64_t);
static void	tow(struct trip_tracker *, int64_t);

void
trip_config_default(struct trip_config *cfg)
{
	cfg->rpm_on_min = 0.0;
	cfg->charging_v = 13.2;
	cfg->obd_stale_ms = 5000;
	cfg->motion_kmh = 5.0;
	cfg->motion_sustain_ms = 10000;
	cfg->motion_disp_m = 50.0;
	cfg->ign_off_end_ms = 60000;
	cfg->stationary_end_ms = 300000;
	cfg->still_kmh = 2.0;
	cfg->jitter_m = 10.0;
	cfg->eph_factor = 2.0;
	cfg->hdop_max = 5.0;
	cfg->max_plausible_kmh = 250.0;
	cfg->gap_ms = 30000;
	cfg->fuel_gap_max_ms = 30000;
	cfg->tank_l = NAN;
}

void
trip_init(struct trip_tracker *tr, const struct trip_config *cfg,
    trip_cb *cb, void *arg)
{
	memset(tr, 0, sizeof(*tr));
	if (cfg != NULL)
		tr->cfg = *cfg;
	else
		trip_config_default(&tr->cfg);
	tr->cb = cb;
	tr->arg = arg;
	tr->obd_ms = NONE;
	tr->fix_ms = NONE;
	tr->fast_ms = NONE;
	tr->move_ms = NONE;
	tr->off_ms = NONE;
	tr->cur_kmh = 0.0;
}

/* Returns d if the segment is physically possible, else NaN. */
static double
seg_plausible(const struct trip_tracker *tr, double d_m, int64_t dt_ms)
{
	if (dt_ms <= 0 || !isfinite(d_m))
		return NAN;
	if (d_m / (dt_ms / MS_PER_S) * MPS2KMH > tr->cfg.max_plausible_kmh)
		return NAN;
	return d_m;
}

static bool
obd_fresh(const struct trip_tracker *tr, int64_t now)
{
	return tr->obd_ms != NONE && now - tr->obd_ms <= tr->cfg.obd_stale_ms;
}

/* Is the engine (presumed) running inside the open trip? */
static bool
engine_on(const struct trip_tracker *tr, int64_t now)
{
	if (!tr->in_trip || tr->off_ms != NONE)
		return false;
	return obd_fresh(tr, now) ? tr->obd_on : true;
}

/*
 * Charge [acct_ms, now] to driving or idle by the state the latest sample
 * left us in: a sample describes the interval that led up to it.
 */
static void
account(struct trip_tracker *tr, int64_t now)
{
	int64_t	dt;

	if (!tr->in_trip)
		return;
	dt = now - tr->acct_ms;
	if (dt <= 0)
		return;
	tr->acct_ms = now;
	if (!engine_on(tr, now))
		return;
	if (tr->cur_kmh >= tr->cfg.still_kmh)
		tr->driving_ms += dt;
	else {
		tr->idle_ms += dt;
		tr->idle_after_motion_ms += dt;
	}
}

/* Bring the derived fields of cur up to date. */
static void
refresh(struct trip_tracker *tr)
{
	struct trip_summary	*s = &tr->cur;

	s->duration_s = (s->end_utc_ms - s->start_utc_ms) / MS_PER_S;
	s->driving_s = tr->driving_ms / MS_PER_S;
	s->idle_s = tr->idle_ms / MS_PER_S;
	s->avg_speed_kmh = s->driving_s > 0 ?
	    s->distance_m / s->driving_s * MPS2KMH : 0.0;
	if (tr->saw_rate)
		s->fuel_used_l = tr->fuel_rate_l;
	else if (isfinite(tr->cfg.tank_l) && isfinite(tr->level_start_pct) &&
	    isfinite(tr->level_end_pct))
		s->fuel_used_l = fmax(0.0, tr->level_start_pct -
		    tr->level_end_pct) / 100.0 * tr->cfg.tank_l;
	else
		s->fuel_used_l = NAN;
}

static void
emit(struct trip_tracker *tr, enum trip_event_type type, int64_t t,
    double lat, double lon)
{
	struct trip_event	ev;

	if (tr->cb == NULL)
		return;
	ev.type = type;
	ev.t_utc_ms = t;
	ev.lat_deg = lat;
	ev.lon_deg = lon;
	ev.trip = type == TRIP_TOWING ? NULL : &tr->cur;
	tr->cb(&ev, tr->arg);
}

static void
start(struct trip_tracker *tr, int64_t t, double lat, double lon)
{
	struct trip_summary	*s = &tr->cur;

	memset(s, 0, sizeof(*s));
	s->start_utc_ms = t;
	s->end_utc_ms = t;
	s->start_lat_deg = s->end_lat_deg = lat;
	s->start_lon_deg = s->end_lon_deg = lon;
	s->odometer_start_km = s->odometer_end_km = NAN;
	s->ended_by = TRIP_END_NONE;
	tr->in_trip = true;
	tr->driving_ms = tr->idle_ms = tr->idle_after_motion_ms = 0;
	tr->acct_ms = t;
	tr->last_motion_ms = t;
	tr->off_ms = NONE;
	tr->have_rate = false;
	tr->saw_rate = false;
	tr->fuel_rate_l = 0.0;
	tr->level_start_pct = tr->level_end_pct = NAN;
	tr->towing = false;
	refresh(tr);
	emit(tr, TRIP_STARTED, t, lat, lon);
}

static void
finish(struct trip_tracker *tr, int64_t t_end, enum trip_end why)
{
	struct trip_summary	*s = &tr->cur;

	if (why == TRIP_END_STATIONARY)
		/* Idle after the last motion belongs to no trip. */
		tr->idle_ms -= tr->idle_after_motion_ms;
	if (t_end < s->start_utc_ms)
		t_end = s->start_utc_ms;
	s->end_utc_ms = t_end;
	s->ended_by = why;
	refresh(tr);
	emit(tr, TRIP_ENDED, t_end, s->end_lat_deg, s->end_lon_deg);
	tr->in_trip = false;
	tr->off_ms = NONE;
	/* The next trip needs fresh motion from a fresh rest point. */
	tr->have_rest = false;
	tr->fast_ms = tr->move_ms = NONE;
}

static void
timeouts(struct trip_tracker *tr, int64_t now)
{
	if (tr->towing && now - tr->tow_move_ms >= tr->cfg.ign_off_end_ms) {
		tr->towing = false;
		tr->have_rest = false;
	}
	if (!tr->in_trip)
		return;
	if (tr->off_ms != NONE) {
		if (now - tr->off_ms >= tr->cfg.ign_off_end_ms)
			finish(tr, tr->off_ms, TRIP_END_IGNITION_OFF);
	} else if (!obd_fresh(tr, now) &&
	    now - tr->last_motion_ms >= tr->cfg.stationary_end_ms)
		finish(tr, tr->last_motion_ms, TRIP_END_STATIONARY);
}

/* GNSS motion while OBD says the engine is off. */
static void
tow(struct trip_tracker *tr, int64_t t)
{
	tr->tow_move_ms = t;
	if (tr->in_trip)
		tr->cur.towed = true;
	if (tr->towing)
		return;
	tr->towing = true;
	emit(tr, TRIP_TOWING, t, tr->fix_lat, tr->fix_lon);
}

void
trip_on_fix(struct trip_tracker *tr, const struct fix *f)
{
	const struct trip_config *c = &tr->cfg;
	int64_t		t = f->t_utc_ms;
	int64_t		st, prev_ms;
	double		kmh, d_prev, d_anc, d_rest, floor_m;
	bool		moving, motion, counting;

	if (!isfinite(f->lat_deg) || !isfinite(f->lon_deg) ||
	    (isfinite(f->hdop) && f->hdop > c->hdop_max)) {
		timeouts(tr, t);
		return;
	}
	if (tr->have_fix && t <= tr->fix_ms) {
		/* Time went backwards: trust nothing across it. */
		if (tr->in_trip)
			tr->cur.gnss_gap = true;
		tr->fix_ms = t;
		tr->fix_lat = f->lat_deg;
		tr->fix_lon = f->lon_deg;
		tr->have_anchor = false;
		tr->fast_ms = tr->move_ms = NONE;
		if (tr->in_trip && tr->acct_ms > t)
			tr->acct_ms = t;
		return;
	}

	floor_m = c->jitter_m;
	if (isfinite(f->eph_m) && c->eph_factor * f->eph_m > floor_m)
		floor_m = c->eph_factor * f->eph_m;
	d_prev = tr->have_fix ? seg_plausible(tr, geo_distance_m(tr->fix_lat,
	    tr->fix_lon, f->lat_deg, f->lon_deg), t - tr->fix_ms) : NAN;
	if (isfinite(f->speed_mps))
		kmh = f->speed_mps * MPS2KMH;
	else if (isfinite(d_prev))
		/* Derived speed: only what exceeds the noise floor. */
		kmh = fmax(0.0, d_prev - floor_m) /
		    ((t - tr->fix_ms) / MS_PER_S) * MPS2KMH;
	else
		kmh = 0.0;
	moving = kmh >= c->still_kmh;
	if (kmh >= c->motion_kmh) {
		if (tr->fast_ms == NONE)
			tr->fast_ms = t;
	} else
		tr->fast_ms = NONE;
	if (moving) {
		if (tr->move_ms == NONE)
			tr->move_ms = t;
	} else
		tr->move_ms = NONE;
	tr->cur_kmh = kmh;
	prev_ms = tr->have_fix ? tr->fix_ms : t;
	tr->have_fix = true;
	tr->fix_ms = t;
	tr->fix_lat = f->lat_deg;
	tr->fix_lon = f->lon_deg;
	if (!tr->have_rest) {
		tr->have_rest = true;
		tr->rest_lat = f->lat_deg;
		tr->rest_lon = f->lon_deg;
	}
	d_rest = geo_distance_m(tr->rest_lat, tr->rest_lon, f->lat_deg,
	    f->lon_deg);
	motion = (tr->fast_ms != NONE && t - tr->fast_ms >=
	    c->motion_sustain_ms) || d_rest >= c->motion_disp_m;

	timeouts(tr, t);

	if (!tr->in_trip) {
		tr->have_anchor = true;
		tr->anc_lat = f->lat_deg;
		tr->anc_lon = f->lon_deg;
		tr->anc_ms = t;
		if (!motion)
			return;
		if (obd_fresh(tr, t)) {
			/* An engine that runs has started a trip already. */
			tow(tr, t);
			return;
		}
		/* GNSS fallback: the trip started when the motion did. */
		st = tr->move_ms != NONE ? tr->move_ms : t;
		start(tr, st, tr->rest_lat, tr->rest_lon);
		if (isfinite(seg_plausible(tr, d_rest, t - st)) ||
		    d_rest < c->motion_disp_m)
			tr->cur.distance_m = d_rest;
		tr->cur.end_lat_deg = f->lat_deg;
		tr->cur.end_lon_deg = f->lon_deg;
		tr->cur.max_speed_kmh = kmh;
		tr->last_motion_ms = t;
		account(tr, t);
		tr->cur.end_utc_ms = t;
		refresh(tr);
		return;
	}

	counting = engine_on(tr, t);
	if (!counting) {
		/* Ignition off, waiting for the timeout. */
		if (motion)
			tow(tr, t);
		tr->have_anchor = true;
		tr->anc_lat = f->lat_deg;
		tr->anc_lon = f->lon_deg;
		tr->anc_ms = t;
		account(tr, t);
		return;
	}

	if (isnan(tr->cur.start_lat_deg)) {
		tr->cur.start_lat_deg = f->lat_deg;
		tr->cur.start_lon_deg = f->lon_deg;
	}
	if (!tr->have_anchor) {
		tr->have_anchor = true;
		tr->anc_lat = f->lat_deg;
		tr->anc_lon = f->lon_deg;
		tr->anc_ms = t;
	} else {
		d_anc = geo_distance_m(tr->anc_lat, tr->anc_lon, f->lat_deg,
		    f->lon_deg);
		if (!moving && d_anc < floor_m) {
			/* Stationary jitter: keep the anchor where it is. */
		} else {
			if (isfinite(seg_plausible(tr, d_anc, t - tr->anc_ms))) {
				tr->cur.distance_m += d_anc;
				if (t - prev_ms > c->gap_ms)
					tr->cur.gnss_gap = true;
			} else
				tr->cur.gnss_gap = true;
			tr->anc_lat = f->lat_deg;
			tr->anc_lon = f->lon_deg;
			tr->anc_ms = t;
		}
	}
	if (moving) {
		tr->last_motion_ms = t;
		tr->idle_after_motion_ms = 0;
	}
	/* Towing is judged from where the engine stopped. */
	tr->rest_lat = f->lat_deg;
	tr->rest_lon = f->lon_deg;
	if (kmh > tr->cur.max_speed_kmh)
		tr->cur.max_speed_kmh = kmh;
	tr->cur.end_lat_deg = f->lat_deg;
	tr->cur.end_lon_deg = f->lon_deg;
	account(tr, t);
	if (t > tr->cur.end_utc_ms)
		tr->cur.end_utc_ms = t;
	refresh(tr);
}

void
trip_on_obd(struct trip_tracker *tr, const struct trip_obd *o, int64_t t)
{
	const struct trip_config *c = &tr->cfg;
	bool		known, on, fix_fresh;
	int64_t		dt;

	timeouts(tr, t);
	known = isfinite(o->rpm) || isfinite(o->battery_v);
	on = (isfinite(o->rpm) && o->rpm > c->rpm_on_min) ||
	    (isfinite(o->battery_v) && o->battery_v >= c->charging_v);
	fix_fresh = tr->have_fix && t - tr->fix_ms <= FIX_FRESH_MS;
	if (isfinite(o->speed_kmh) && !fix_fresh)
		tr->cur_kmh = o->speed_kmh;
	if (known) {
		tr->obd_ms = t;
		tr->obd_on = on;
		if (on) {
			tr->towing = false;
			if (!tr->in_trip)
				start(tr, t, fix_fresh ? tr->fix_lat : NAN,
				    fix_fresh ? tr->fix_lon : NAN);
			tr->off_ms = NONE;
			tr->last_motion_ms = t;
			tr->idle_after_motion_ms = 0;
		} else if (tr->in_trip && tr->off_ms == NONE) {
			account(tr, t);
			tr->off_ms = t;
			tr->cur.end_utc_ms = t;
			refresh(tr);
		}
	}
	if (!engine_on(tr, t)) {
		account(tr, t);
		tr->have_rate = false;
		return;
	}

	if (isfinite(o->fuel_rate_lph)) {
		if (tr->have_rate) {
			dt = t - tr->rate_ms;
			if (dt > 0 && dt <= c->fuel_gap_max_ms)
				tr->fuel_rate_l += (tr->rate_lph +
				    o->fuel_rate_lph) / 2.0 * (dt / MS_PER_H);
		}
		tr->have_rate = tr->saw_rate = true;
		tr->rate_lph = o->fuel_rate_lph;
		tr->rate_ms = t;
	}
	if (isfinite(o->fuel_level_pct)) {
		if (isnan(tr->level_start_pct))
			tr->level_start_pct = o->fuel_level_pct;
		tr->level_end_pct = o->fuel_level_pct;
	}
	if (isfinite(o->odometer_km)) {
		if (isnan(tr->cur.odometer_start_km))
			tr->cur.odometer_start_km = o->odometer_km;
		tr->cur.odometer_end_km = o->odometer_km;
	}
	if (isfinite(o->speed_kmh) && o->speed_kmh > tr->cur.max_speed_kmh)
		tr->cur.max_speed_kmh = o->speed_kmh;
	account(tr, t);
	if (t > tr->cur.end_utc_ms)
		tr->cur.end_utc_ms = t;
	refresh(tr);
}

void
trip_tick(struct trip_tracker *tr, int64_t now)
{
	timeouts(tr, now);
}

const struct trip_summary *
trip_current(const struct trip_tracker *tr)
{
	return tr->in_trip ? &tr->cur : NULL;
}

int
trip_recover(struct trip_tracker *tr, const struct trip_summary *open_trip,
    int64_t now)
{
	struct trip_summary	*s = &tr->cur;
	struct trip_event	ev;

	if (tr->in_trip || open_trip->ended_by != TRIP_END_NONE)
		return -1;
	*s = *open_trip;
	if (s->end_utc_ms > now)
		s->end_utc_ms = now;
	if (s->end_utc_ms < s->start_utc_ms)
		s->end_utc_ms = s->start_utc_ms;
	s->ended_by = TRIP_END_POWER_LOSS;
	s->duration_s = (s->end_utc_ms - s->start_utc_ms) / MS_PER_S;
	s->avg_speed_kmh = s->driving_s > 0 ?
	    s->distance_m / s->driving_s * MPS2KMH : 0.0;
	if (tr->cb != NULL) {
		ev.type = TRIP_ENDED;
		ev.t_utc_ms = s->end_utc_ms;
		ev.lat_deg = s->end_lat_deg;
		ev.lon_deg = s->end_lon_deg;
		ev.trip = s;
		tr->cb(&ev, tr->arg);
	}
	return 0;
}

void
trip_shutdown(struct trip_tracker *tr, int64_t now)
{
	if (!tr->in_trip)
		return;
	account(tr, now);
	finish(tr, now, TRIP_END_SHUTDOWN);
}
