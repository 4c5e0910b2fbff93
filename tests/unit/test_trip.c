/* SPDX-License-Identifier: MIT */
/*
 * test_trip.c - trip detection on synthesized drives: 1 Hz fixes along
 * great-circle legs, OBD samples at the same instants.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "geo.h"
#include "trip.h"

#define T0		INT64_C(1772432045000)	/* 2026-03-02T06:14:05Z */
#define LAT0		30.6598			/* Tianfu Square */
#define LON0		104.0657
#define MAXTRIPS	8

struct sim {
	struct trip_tracker	tr;
	int			nstart, nend, ntow;
	struct trip_summary	ended[MAXTRIPS];
	int64_t			started[MAXTRIPS];
	int64_t			t;
	double			lat, lon, bearing_deg;
	bool			obd;		/* adapter present */
	bool			engine;
	bool			gnss;		/* fixes arrive */
	double			noise_m;	/* position noise radius */
	double			truth_m;
	uint32_t		rng;
};

static void	feed_fix(struct sim *, double);

static void
on_event(const struct trip_event *ev, void *arg)
{
	struct sim	*s = arg;

	switch (ev->type) {
	case TRIP_STARTED:
		cr_assert_lt(s->nstart, MAXTRIPS);
		s->started[s->nstart++] = ev->t_utc_ms;
		break;
	case TRIP_ENDED:
		cr_assert_lt(s->nend, MAXTRIPS);
		s->ended[s->nend++] = *ev->trip;
		break;
	case TRIP_TOWING:
		s->ntow++;
		break;
	}
}

/* Deterministic uniform [0, 1). */
static double
rnd(struct sim *s)
{
	s->rng = s->rng * 1664525u + 1013904223u;
	return (s->rng >> 8) / 16777216.0;
}

static void
sim_init(struct sim *s, bool obd)
{
	memset(s, 0, sizeof(*s));
	trip_init(&s->tr, NULL, on_event, s);
	s->t = T0;
	s->lat = LAT0;
	s->lon = LON0;
	s->obd = obd;
	s->gnss = true;
	s->rng = 12345;
	feed_fix(s, 0.0);	/* the receiver is up before anything moves */
}

static void
feed_fix(struct sim *s, double speed_mps)
{
	struct fix	f;
	double		lat = s->lat, lon = s->lon;

	memset(&f, 0, sizeof(f));
	if (s->noise_m > 0)
		/* Uniform in a disc of radius noise_m. */
		geo_destination(s->lat, s->lon, rnd(s) * 360.0,
		    s->noise_m * sqrt(rnd(s)), &lat, &lon);
	f.t_utc_ms = s->t;
	f.lat_deg = lat;
	f.lon_deg = lon;
	f.alt_m = NAN;
	f.speed_mps = speed_mps;
	f.heading_deg = s->bearing_deg;
	f.hdop = 1.2;
	f.eph_m = 5.0;
	f.mode = 3;
	trip_on_fix(&s->tr, &f);
}

/* One second at kmh: move, then the OBD sample and the fix of that second. */
static void
step(struct sim *s, double kmh)
{
	struct trip_obd	o;
	double		m = kmh / 3.6;

	s->t += 1000;
	if (m > 0) {
		geo_destination(s->lat, s->lon, s->bearing_deg, m, &s->lat,
		    &s->lon);
		s->truth_m += m;
	}
	if (s->obd) {
		o.rpm = s->engine ? 750.0 + kmh * 25.0 : 0.0;
		o.battery_v = s->engine ? 14.1 : 12.4;
		o.speed_kmh = kmh;
		o.fuel_level_pct = NAN;
		o.fuel_rate_lph = s->engine ? 3.6 : NAN;
		o.odometer_km = NAN;
		trip_on_obd(&s->tr, &o, s->t);
	}
	if (s->gnss)
		/* A parked receiver still reports a little speed. */
		feed_fix(s, m > 0 ? m : rnd(s) * 0.3);
	else
		trip_tick(&s->tr, s->t);
}

static void
run(struct sim *s, double kmh, int secs)
{
	int	i;

	for (i = 0; i < secs; i++)
		step(s, kmh);
}

/* Accelerate or brake linearly from a to b km/h over secs. */
static void
ramp(struct sim *s, double a, double b, int secs)
{
	int	i;

	for (i = 1; i <= secs; i++)
		step(s, a + (b - a) * i / secs);
}

Test(trip, ten_km_drive_within_one_percent, .timeout = 10)
{
	static const double	bearings[] = { 90, 135, 45, 0, 270, 180 };
	struct sim		s;
	struct trip_summary	*t;
	int64_t			on_ms, off_ms;
	size_t			i;

	sim_init(&s, true);
	s.noise_m = 1.0;
	run(&s, 0, 30);			/* parked, engine off */
	s.engine = true;
	on_ms = s.t + 1000;
	run(&s, 0, 20);			/* warm-up idle */
	for (i = 0; i < sizeof(bearings) / sizeof(bearings[0]); i++) {
		s.bearing_deg = bearings[i];
		ramp(&s, 0, 50, 15);
		run(&s, 50, 100);
		ramp(&s, 50, 0, 15);
		run(&s, 0, 90);		/* red light, engine running */
	}
	while (s.truth_m < 10000.0)
		step(&s, 40);
	s.engine = false;
	off_ms = s.t + 1000;
	run(&s, 0, 120);

	cr_assert_eq(s.nstart, 1);
	cr_assert_eq(s.nend, 1);
	t = &s.ended[0];
	cr_assert_eq(s.started[0], on_ms);
	cr_assert_eq(t->start_utc_ms, on_ms);
	cr_assert_eq(t->end_utc_ms, off_ms);
	cr_assert_eq(t->ended_by, TRIP_END_IGNITION_OFF);
	cr_assert(fabs(t->distance_m - s.truth_m) < 0.01 * s.truth_m,
	    "distance %f truth %f", t->distance_m, s.truth_m);
	cr_assert_float_eq(t->duration_s, (off_ms - on_ms) / 1000.0, 1e-9);
	cr_assert(t->idle_s >= 20 + 6 * 90 - 6 && t->idle_s <= 20 + 6 * 90 + 12,
	    "idle %f", t->idle_s);
	cr_assert(fabs(t->driving_s + t->idle_s - t->duration_s) <= 2,
	    "driving %f idle %f", t->driving_s, t->idle_s);
	cr_assert_float_eq(t->max_speed_kmh, 50.0, 0.5);
	cr_assert_float_eq(t->avg_speed_kmh,
	    t->distance_m / t->driving_s * 3.6, 1e-9);
	/* 3.6 l/h for the engine-on time. */
	cr_assert_float_eq(t->fuel_used_l, t->duration_s / 1000.0, 0.01,
	    "fuel %f", t->fuel_used_l);
	cr_assert(!t->gnss_gap);
	cr_assert(!t->towed);
	cr_assert(isnan(t->odometer_start_km));
	cr_assert(geo_distance_m(t->start_lat_deg, t->start_lon_deg, LAT0,
	    LON0) < 2.0);
	cr_assert(geo_distance_m(t->end_lat_deg, t->end_lon_deg, s.lat,
	    s.lon) < 2.0);
	cr_assert_null(trip_current(&s.tr));
}

Test(trip, long_traffic_light_does_not_split, .timeout = 10)
{
	struct sim	s;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 30, 60);
	run(&s, 0, 8 * 60);		/* 8 min queue, engine running */
	run(&s, 30, 60);
	cr_assert_eq(s.nstart, 1);
	cr_assert_eq(s.nend, 0);
	cr_assert_not_null(trip_current(&s.tr));
	cr_assert(trip_current(&s.tr)->idle_s >= 8 * 60 - 2);
}

Test(trip, ignition_off_30s_then_on_is_one_trip, .timeout = 10)
{
	struct sim	s;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 40, 120);
	s.engine = false;
	run(&s, 0, 30);
	s.engine = true;
	run(&s, 40, 120);
	s.engine = false;
	run(&s, 0, 61);
	cr_assert_eq(s.nstart, 1);
	cr_assert_eq(s.nend, 1);
	cr_assert_float_eq(s.ended[0].distance_m, s.truth_m,
	    0.01 * s.truth_m);
	/* The 30 s off counts as neither driving nor idle. */
	cr_assert(s.ended[0].driving_s + s.ended[0].idle_s <= 240 + 2);
}

Test(trip, ignition_off_90s_makes_two_trips, .timeout = 10)
{
	struct sim	s;
	int64_t		off_ms;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 40, 120);
	s.engine = false;
	off_ms = s.t + 1000;
	run(&s, 0, 90);
	s.engine = true;
	run(&s, 40, 120);
	s.engine = false;
	run(&s, 0, 61);
	cr_assert_eq(s.nstart, 2);
	cr_assert_eq(s.nend, 2);
	cr_assert_eq(s.ended[0].end_utc_ms, off_ms);
	cr_assert_eq(s.ended[0].ended_by, TRIP_END_IGNITION_OFF);
	cr_assert_eq(s.started[1], off_ms + 90000);
	cr_assert_float_eq(s.ended[0].distance_m, 40 / 3.6 * 120, 10.0);
	cr_assert_float_eq(s.ended[1].distance_m, 40 / 3.6 * 120, 10.0);
}

Test(trip, parking_jitter_is_no_trip_and_no_distance, .timeout = 10)
{
	struct sim	s;

	/* No OBD: only GNSS could start a trip. */
	sim_init(&s, false);
	s.noise_m = 5.0;
	run(&s, 0, 3600);
	cr_assert_eq(s.nstart, 0);
	cr_assert_eq(s.ntow, 0);

	/* OBD says the engine is off: no trip, and jitter is no towing. */
	sim_init(&s, true);
	s.noise_m = 5.0;
	run(&s, 0, 3600);
	cr_assert_eq(s.nstart, 0);
	cr_assert_eq(s.ntow, 0);
}

Test(trip, idle_only_trip, .timeout = 10)
{
	struct sim	s;

	sim_init(&s, true);
	s.noise_m = 5.0;
	s.engine = true;
	run(&s, 0, 3600);
	s.engine = false;
	run(&s, 0, 61);
	cr_assert_eq(s.nend, 1);
	cr_assert(s.ended[0].distance_m < 1.0, "distance %f",
	    s.ended[0].distance_m);
	cr_assert_float_eq(s.ended[0].driving_s, 0.0, 1e-9);
	cr_assert_float_eq(s.ended[0].idle_s, 3599.0, 1.0);
	cr_assert_float_eq(s.ended[0].avg_speed_kmh, 0.0, 1e-9);
}

Test(trip, gnss_dropout_keeps_trip_and_counts_the_chord, .timeout = 10)
{
	struct sim	s;

	sim_init(&s, true);
	s.engine = true;
	s.bearing_deg = 60;
	run(&s, 60, 300);
	s.gnss = false;
	run(&s, 60, 120);		/* tunnel: OBD only */
	s.gnss = true;
	run(&s, 60, 300);
	cr_assert_eq(s.nstart, 1);
	cr_assert_eq(s.nend, 0);
	cr_assert_float_eq(trip_current(&s.tr)->distance_m, s.truth_m, 1.0);
	cr_assert(trip_current(&s.tr)->gnss_gap);
	cr_assert_float_eq(trip_current(&s.tr)->driving_s, 720.0, 1.0);
}

Test(trip, implausible_jump_counts_nothing, .timeout = 10)
{
	struct sim	s;
	double		lat, lon;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 36, 100);
	/* One fix 50 km away, then back on track. */
	lat = s.lat;
	lon = s.lon;
	s.t += 1000;
	geo_destination(lat, lon, 0, 50000.0, &s.lat, &s.lon);
	feed_fix(&s, 10.0);
	s.lat = lat;
	s.lon = lon;
	run(&s, 36, 100);
	cr_assert(trip_current(&s.tr)->gnss_gap);
	cr_assert(trip_current(&s.tr)->distance_m <= s.truth_m + 1.0,
	    "distance %f", trip_current(&s.tr)->distance_m);
	cr_assert(trip_current(&s.tr)->distance_m >= s.truth_m - 25.0);
}

Test(trip, time_backwards_counts_nothing, .timeout = 10)
{
	struct sim	s;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 36, 100);
	s.t -= 10000;
	run(&s, 36, 100);
	cr_assert(trip_current(&s.tr)->gnss_gap);
	cr_assert(trip_current(&s.tr)->distance_m <= s.truth_m + 1.0);
	cr_assert_eq(s.nstart, 1);
}

Test(trip, high_hdop_fixes_are_ignored, .timeout = 10)
{
	struct sim	s;
	struct fix	f;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 36, 10);
	memset(&f, 0, sizeof(f));
	f.t_utc_ms = s.t + 500;
	geo_destination(s.lat, s.lon, 90, 300.0, &f.lat_deg, &f.lon_deg);
	f.speed_mps = 10.0;
	f.hdop = 20.0;
	f.eph_m = NAN;
	trip_on_fix(&s.tr, &f);
	run(&s, 36, 10);
	cr_assert_float_eq(trip_current(&s.tr)->distance_m, s.truth_m, 1.0);
	cr_assert(!trip_current(&s.tr)->gnss_gap);
}

Test(trip, towing_is_no_trip, .timeout = 10)
{
	struct sim	s;

	sim_init(&s, true);
	run(&s, 0, 30);
	run(&s, 20, 120);		/* on the tow truck, engine off */
	run(&s, 0, 120);
	cr_assert_eq(s.nstart, 0);
	cr_assert_eq(s.ntow, 1);
	/* Towed while a trip waits for its ignition-off timeout. */
	sim_init(&s, true);
	s.engine = true;
	run(&s, 40, 60);
	s.engine = false;
	run(&s, 0, 5);
	run(&s, 20, 40);
	run(&s, 0, 60);
	cr_assert_eq(s.nend, 1);
	cr_assert(s.ended[0].towed);
	cr_assert_float_eq(s.ended[0].distance_m, 40 / 3.6 * 60, 5.0);
}

Test(trip, gnss_only_trip_ends_when_stationary, .timeout = 10)
{
	struct sim	s;
	int64_t		last_move_ms;

	sim_init(&s, false);
	s.noise_m = 3.0;
	run(&s, 0, 60);
	/* Unsmoothed 1 Hz noise inflates distance: keep it small on the move. */
	s.noise_m = 1.0;
	ramp(&s, 0, 30, 10);
	run(&s, 30, 200);
	s.noise_m = 3.0;
	run(&s, 0, 120);		/* traffic light */
	s.noise_m = 1.0;
	run(&s, 30, 200);
	last_move_ms = s.t;
	s.noise_m = 3.0;
	run(&s, 0, 301);
	cr_assert_eq(s.nstart, 1, "nstart %d nend %d", s.nstart, s.nend);
	cr_assert_eq(s.nend, 1);
	cr_assert_eq(s.ended[0].ended_by, TRIP_END_STATIONARY);
	cr_assert_eq(s.ended[0].end_utc_ms, last_move_ms);
	cr_assert_float_eq(s.ended[0].distance_m, s.truth_m,
	    0.01 * s.truth_m);
	cr_assert(s.ended[0].idle_s <= 121, "idle %f", s.ended[0].idle_s);
	cr_assert(isnan(s.ended[0].fuel_used_l));
}

Test(trip, power_loss_recovery, .timeout = 10)
{
	struct sim		s;
	struct trip_summary	saved;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 40, 100);
	saved = *trip_current(&s.tr);
	saved.id = 42;

	/* Reboot: a fresh tracker closes the persisted trip. */
	sim_init(&s, true);
	cr_assert_eq(trip_recover(&s.tr, &saved, saved.end_utc_ms + 600000),
	    0);
	cr_assert_eq(s.nend, 1);
	cr_assert_eq(s.ended[0].id, 42);
	cr_assert_eq(s.ended[0].ended_by, TRIP_END_POWER_LOSS);
	cr_assert_eq(s.ended[0].end_utc_ms, saved.end_utc_ms);
	cr_assert_float_eq(s.ended[0].distance_m, saved.distance_m, 1e-9);
	cr_assert_null(trip_current(&s.tr));
	/* A closed trip cannot be recovered again. */
	cr_assert_eq(trip_recover(&s.tr, &s.ended[0], saved.end_utc_ms), -1);
	cr_assert_eq(s.nend, 1);
}

Test(trip, shutdown_closes_the_open_trip, .timeout = 10)
{
	struct sim	s;

	sim_init(&s, true);
	s.engine = true;
	run(&s, 40, 100);
	trip_shutdown(&s.tr, s.t);
	cr_assert_eq(s.nend, 1);
	cr_assert_eq(s.ended[0].ended_by, TRIP_END_SHUTDOWN);
	cr_assert_eq(s.ended[0].end_utc_ms, s.t);
	trip_shutdown(&s.tr, s.t);
	cr_assert_eq(s.nend, 1);
}
