/* SPDX-License-Identifier: MIT */
/*
 * daygen.h - a deterministic working day of 1 Hz fixes with OBD values,
 * for the wire and sync benchmarks (tests/bench/bench_wire.c,
 * tests/bench/bench_sync.c).
 *
 * An official car in Chengdu (start 30.5723 N, 104.0665 E, 08:00 local
 * on Tue 2026-11-17): drives of 15 to 60 minutes on a street grid (blocks
 * of 150 to 1500 m, 25 to 80 km/h by street, traffic lights, turns,
 * traffic slow-downs) between stops of 3 to 90 minutes (up to 10 with
 * the engine idling, longer ones parked with the engine off).  The GNSS
 * receiver keeps a 3D fix all day, also while parked.
 *
 * The values are quantised the way they reach the store in the daemon:
 *  - GNSS through NMEA and gpsd: lat/lon from ddmm.mmmmm (1e-5 minute)
 *    printed by gpsd with 9 decimals, altitude 0.1 m, speed from knots
 *    with 3 decimals converted to m/s and printed with 3 decimals, course
 *    0.1 degree (none below 0.3 m/s), HDOP 0.01; a correlated position
 *    error of about 1 m, so a parked car jitters; satellites per
 *    constellation (GPS, BeiDou, Galileo; no GLONASS) rising and setting
 *    slowly, some blocked by buildings.
 *  - OBD as the reader decodes it: engine on, rpm (1/4 rpm), vehicle
 *    speed (1 km/h) and control-module voltage (PID 42, 1 mV) every
 *    second; coolant (1 degree C), fuel level (A*100/255 %), odometer
 *    (PID A6, 0.1 km) and MIL (off) every 10 s (poll_slow_ms), held in
 *    between.  Engine off: the ECU sleeps, the reader reports rpm 0,
 *    speed 0 and the adapter's ATRV voltage (0.1 V); the rest unknown.
 *    Other PIDs (load, throttle, MAF, fuel rate, ...) unknown all day.
 *
 * Deterministic: the same seed gives the same day (splitmix64; libm's
 * sin, cos, sqrt, fmod, round and floor are the only functions of
 * doubles used, so another libm could round a last bit differently).
 */
#ifndef DAYGEN_H
#define DAYGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"
#include "store.h"

#define DAYGEN_T0_MS	INT64_C(1794873600000)	/* 2026-11-17T00:00:00Z,
						   08:00 in Asia/Shanghai */
#define DAYGEN_TANK_L	55.0	/* fuel tank, litres */

struct daygen_opts {
	uint64_t	seed;
	int64_t		t0_utc_ms;	/* 0: DAYGEN_T0_MS */
};

/* One second of the day. */
struct daygen_sample {
	struct store_position	pos;	/* seq 0, t_mono_ms 0, as read back */
	bool			engine_on;
	double			true_speed_mps;
};

/* Generator state; opaque in practice, on the caller's stack. */
struct daygen {
	uint64_t	rng;
	int64_t		t_ms;
	uint64_t	n;		/* samples made */
	/* plan */
	int		phase;		/* DRIVE, IDLE, PARK */
	double		phase_left_s;
	/* motion */
	double		x, y;		/* metres east, north of the start */
	double		v;		/* m/s */
	double		road_hdg;	/* degrees */
	double		hdg;
	double		seg_left_m;	/* to the next intersection */
	double		v_target;
	double		street_v;
	bool		stop_at_end;	/* red light ahead */
	double		hold_s;		/* standing at a light */
	double		turn_left_deg;	/* turn in progress */
	double		slow_s;		/* traffic slow-down left */
	/* GNSS error and quality */
	double		ex, ey, ez;	/* correlated error, m */
	double		hdop;
	int		vis[GNSS_SYS_COUNT];
	int		blocked[GNSS_SYS_COUNT];
	/* engine and OBD */
	double		engine_on_s;	/* since start, 0 when off */
	double		coolant;
	double		fuel_l;
	double		odo_km;
	double		batt_rest;
	struct obd_sample slow;		/* last slow-poll values */
};

void	daygen_init(struct daygen *, const struct daygen_opts *);
/* The next second of the day into *out. */
void	daygen_next(struct daygen *, struct daygen_sample *out);

#endif /* DAYGEN_H */
