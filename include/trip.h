/* SPDX-License-Identifier: MIT */
/*
 * trip.h - trip detection and trip summaries.
 *
 * Pure: fed GNSS fixes, OBD samples and a "now" (all GNSS UTC ms), it
 * reports TRIP_STARTED, TRIP_ENDED and TRIP_TOWING through a callback.  It
 * does no I/O, reads no clock and logs nothing.
 *
 * Ignition.  While an OBD sample that says something about the engine is
 * at most obd_stale_ms old, OBD decides: the engine runs when rpm >
 * rpm_on_min or battery_v >= charging_v (alternator charging).  Otherwise
 * GNSS motion stands in: speed >= motion_kmh for motion_sustain_ms, or a
 * displacement of motion_disp_m from the rest point.
 *
 * Start and end.  A trip starts at ignition on (OBD) or at the start of the
 * motion run (GNSS fallback; its start point is the rest point).  It ends
 * ign_off_end_ms after the ignition went off, with the end time set to the
 * moment it went off; ignition back on sooner continues the same trip (the
 * off interval counts as neither driving nor idle).  Without OBD it ends
 * after stationary_end_ms with no motion, at the last moving moment.  An
 * engine that keeps running (traffic lights, queues) never ends a trip.
 *
 * Towing.  OBD fresh and saying engine off while GNSS reports motion (same
 * motion test as above) is a towing episode: no trip is started, one
 * TRIP_TOWING event is reported per episode and, if a trip was waiting for
 * its ignition-off timeout, that trip gets towed = true.  An episode ends
 * after ign_off_end_ms without motion or when the engine starts.
 *
 * Distance.  Haversine between accepted fixes of an engine-on trip.  Fixes
 * with hdop > hdop_max are ignored.  Stationary jitter is not distance: a
 * fix slower than still_kmh (or of unknown speed) that lies less than
 * max(jitter_m, eph_factor * eph_m) from the last counted point adds
 * nothing and does not move that point.  A segment whose GNSS time goes
 * backwards or that implies more than max_plausible_kmh counts nothing and
 * sets gnss_gap.  Across a plausible gap longer than gap_ms (receiver lost
 * the sky, tunnel) the straight-line distance is counted, which is a lower
 * bound of the path, and gnss_gap is set to say so.
 *
 * Fuel.  fuel_rate_lph is integrated (trapezoids, samples further apart
 * than fuel_gap_max_ms are not bridged) while the engine runs.  A trip that
 * saw no rate uses the fuel level drop times tank_l when tank_l is set
 * (refuelling during the trip clamps to 0); otherwise fuel_used_l is NaN.
 *
 * Power loss.  The caller persists trip_current() now and then; after a
 * crash it passes the persisted copy to trip_recover(), which closes it
 * with TRIP_END_POWER_LOSS at its last known time (end_utc_ms).
 */
#ifndef TRIP_H
#define TRIP_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

struct trip_config {
	double	rpm_on_min;		/* engine runs above this: 0 */
	double	charging_v;		/* alternator charging: 13.2 V */
	int64_t	obd_stale_ms;		/* OBD older than this is absent: 5 s */
	double	motion_kmh;		/* GNSS motion speed: 5 km/h */
	int64_t	motion_sustain_ms;	/* ... held for: 10 s */
	double	motion_disp_m;		/* or moved from rest point: 50 m */
	int64_t	ign_off_end_ms;		/* ignition off ends trip after: 60 s */
	int64_t	stationary_end_ms;	/* no-OBD trip ends after: 5 min */
	double	still_kmh;		/* below this: not driving: 2 km/h */
	double	jitter_m;		/* stationary jitter floor: 10 m */
	double	eph_factor;		/* jitter floor from eph_m: 2 */
	double	hdop_max;		/* fixes above are ignored: 5 */
	double	max_plausible_kmh;	/* faster segments are gaps: 250 */
	int64_t	gap_ms;			/* longer fix gaps set gnss_gap: 30 s */
	int64_t	fuel_gap_max_ms;	/* fuel rate not bridged over: 30 s */
	double	tank_l;			/* tank volume, NaN unknown: NaN */
};

/* One OBD sample; NaN means not read / not supported. */
struct trip_obd {
	double	rpm;
	double	battery_v;
	double	speed_kmh;
	double	fuel_level_pct;
	double	fuel_rate_lph;
	double	odometer_km;
};

enum trip_end {
	TRIP_END_NONE,		/* still open */
	TRIP_END_IGNITION_OFF,
	TRIP_END_STATIONARY,	/* no OBD: no motion for stationary_end_ms */
	TRIP_END_POWER_LOSS,	/* closed by trip_recover() */
	TRIP_END_SHUTDOWN	/* closed by trip_shutdown() */
};

struct trip_summary {
	uint64_t	id;		/* the caller's; trip never sets it */
	int64_t		start_utc_ms;	/* GNSS UTC */
	int64_t		end_utc_ms;	/* open trip: last known time */
	double		distance_m;
	double		duration_s;	/* end - start */
	double		driving_s;	/* engine on, speed >= still_kmh */
	double		idle_s;		/* engine on, speed < still_kmh */
	double		max_speed_kmh;
	double		avg_speed_kmh;	/* distance / driving time, 0 if none */
	double		fuel_used_l;	/* NaN unknown */
	double		start_lat_deg;	/* NaN until a fix is known */
	double		start_lon_deg;
	double		end_lat_deg;
	double		end_lon_deg;
	double		odometer_start_km; /* NaN unknown */
	double		odometer_end_km;
	enum trip_end	ended_by;
	bool		gnss_gap;	/* distance partly missing or chord */
	bool		towed;		/* towed while the ignition was off */
};

enum trip_event_type {
	TRIP_STARTED,
	TRIP_ENDED,
	TRIP_TOWING		/* start of a towing episode */
};

struct trip_event {
	enum trip_event_type	type;
	int64_t			t_utc_ms;	/* start, end or towing start */
	double			lat_deg;	/* NaN unknown */
	double			lon_deg;
	/* STARTED, ENDED: borrowed, valid during the callback only. */
	const struct trip_summary *trip;
};

/* Called synchronously from the trip_ functions; must not re-enter them. */
typedef void	trip_cb(const struct trip_event *, void *arg);

/* Internal state; callers only allocate it and pass it around. */
struct trip_tracker {
	struct trip_config	cfg;
	trip_cb			*cb;
	void			*arg;

	bool			in_trip;
	struct trip_summary	cur;
	int64_t			driving_ms;
	int64_t			idle_ms;
	int64_t			idle_after_motion_ms;
	int64_t			acct_ms;	/* accounted up to */
	int64_t			last_motion_ms;	/* last moving evidence */
	int64_t			off_ms;		/* ignition off since */

	bool			obd_on;
	int64_t			obd_ms;		/* last engine-telling sample */
	bool			have_rate;
	double			rate_lph;
	int64_t			rate_ms;
	double			fuel_rate_l;
	bool			saw_rate;
	double			level_start_pct;
	double			level_end_pct;

	double			cur_kmh;	/* latest speed, any source */
	int64_t			fix_ms;		/* last good fix */
	bool			have_fix;
	double			fix_lat, fix_lon;
	bool			have_anchor;	/* last counted point */
	double			anc_lat, anc_lon;
	int64_t			anc_ms;
	bool			have_rest;
	double			rest_lat, rest_lon;
	int64_t			fast_ms;	/* speed >= motion_kmh since */
	int64_t			move_ms;	/* speed >= still_kmh since */

	bool			towing;
	int64_t			tow_move_ms;
};

/* Fill *cfg with the defaults documented in struct trip_config. */
void	trip_config_default(struct trip_config *cfg);
/* Start with no trip; cfg NULL means defaults; cfg is copied. */
void	trip_init(struct trip_tracker *, const struct trip_config *cfg,
	    trip_cb *cb, void *arg);

/* Inputs.  Times are GNSS UTC ms. */
void	trip_on_fix(struct trip_tracker *, const struct fix *);
void	trip_on_obd(struct trip_tracker *, const struct trip_obd *,
	    int64_t t_utc_ms);
/* Time-based closing when no input arrives; call once per loop turn. */
void	trip_tick(struct trip_tracker *, int64_t now_utc_ms);

/* The open trip, kept up to date for persisting, or NULL. */
const struct trip_summary *trip_current(const struct trip_tracker *);

/*
 * Close a trip left open by a crash (a persisted trip_current() copy):
 * TRIP_ENDED with ended_by TRIP_END_POWER_LOSS, end at its end_utc_ms
 * clamped to [start, now_utc_ms].  Returns -1, reporting nothing, if
 * open_trip is not open or the tracker has a trip open, else 0.
 */
int	trip_recover(struct trip_tracker *,
	    const struct trip_summary *open_trip, int64_t now_utc_ms);
/* Orderly stop: close the open trip, if any, at now (TRIP_END_SHUTDOWN). */
void	trip_shutdown(struct trip_tracker *, int64_t now_utc_ms);

#endif /* TRIP_H */
