/* SPDX-License-Identifier: MIT */
/*
 * daygen.c - a deterministic working day of 1 Hz fixes (daygen.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daygen.h"

#define LAT0		30.5723
#define LON0		104.0665
#define M_PER_DEG	111320.0	/* metres per degree of latitude */
#define KNOT_MPS	(1852.0 / 3600.0)
#define GRID_DEG	8.0		/* street grid rotation */
#define HOME_RADIUS_M	10000.0		/* turn back beyond this */
#define TURN_DEG_S	15.0		/* heading change while turning */
#define TURN_MPS	4.5		/* speed through a turn, ~16 km/h */
#define BRAKE_MPS2	1.8
#define PULL_OVER_MPS2	2.0
#define AMBIENT_C	12.0
#define ODO0_KM		48213.4
#define FUEL0_L		38.5
#define SLOW_POLL_S	10

enum { PH_DRIVE, PH_IDLE, PH_PARK };

/* splitmix64 */
static uint64_t
rnd64(struct daygen *g)
{
	uint64_t	z = (g->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
urand(struct daygen *g)
{
	return (double)(rnd64(g) >> 11) * 0x1.0p-53;
}

static double
uniform(struct daygen *g, double lo, double hi)
{
	return lo + (hi - lo) * urand(g);
}

/* About N(0, 1): Irwin-Hall of four uniforms, scaled (no libm). */
static double
gauss(struct daygen *g)
{
	return (urand(g) + urand(g) + urand(g) + urand(g) - 2.0) *
	    1.7320508075688772;
}

static bool
chance(struct daygen *g, double p)
{
	return urand(g) < p;
}

/* x as a printf("%.*f") text read back: what a text protocol keeps. */
static double
qdec(double x, int decimals)
{
	char	buf[64];

	snprintf(buf, sizeof(buf), "%.*f", decimals, x);
	return strtod(buf, NULL);
}

static double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static double
norm360(double d)
{
	d = fmod(d, 360.0);
	return d < 0 ? d + 360.0 : d;
}

/* Signed difference to - from in (-180, 180]. */
static double
hdg_diff(double to, double from)
{
	double	d = norm360(to - from);

	return d > 180.0 ? d - 360.0 : d;
}

/* ddmm.mmmmm as NMEA carries it, then gpsd's %.9f. */
static double
nmea_coord(double deg)
{
	double	a = fabs(deg), d = floor(a), m;

	m = qdec((a - d) * 60.0, 5);
	if (m >= 60.0) {
		d += 1.0;
		m -= 60.0;
	}
	a = qdec(d + m / 60.0, 9);
	return deg < 0 ? -a : a;
}

static void
start_stop_phase(struct daygen *g)
{
	if (chance(g, 0.3)) {
		g->phase = PH_IDLE;
		g->phase_left_s = floor(uniform(g, 180, 600));
	} else {
		g->phase = PH_PARK;
		g->phase_left_s = floor(uniform(g, 600, 5400));
	}
}

static void
new_segment(struct daygen *g)
{
	double	r = urand(g), turn = 0.0, away;

	if (r < 0.15) {			/* ring road */
		g->street_v = uniform(g, 65, 80) / 3.6;
		g->seg_left_m = uniform(g, 600, 1500);
	} else if (r < 0.45) {		/* side street */
		g->street_v = uniform(g, 25, 40) / 3.6;
		g->seg_left_m = uniform(g, 150, 400);
	} else {			/* arterial */
		g->street_v = uniform(g, 45, 60) / 3.6;
		g->seg_left_m = uniform(g, 300, 900);
	}
	/* Far from the start and heading away: turn back. */
	away = g->x * sin(g->road_hdg * M_PI / 180.0) +
	    g->y * cos(g->road_hdg * M_PI / 180.0);
	if (sqrt(g->x * g->x + g->y * g->y) > HOME_RADIUS_M && away > 0)
		turn = chance(g, 0.5) ? 90.0 : -90.0;
	else if (chance(g, 0.35))
		turn = chance(g, 0.5) ? 90.0 : -90.0;
	if (turn != 0.0) {
		g->road_hdg = norm360(g->road_hdg + turn);
		g->turn_left_deg = turn;
	}
	g->stop_at_end = chance(g, 0.45);
}

void
daygen_init(struct daygen *g, const struct daygen_opts *o)
{
	int	i;

	memset(g, 0, sizeof(*g));
	g->rng = o->seed ^ UINT64_C(0x5eed0fda7a);
	g->t_ms = o->t0_utc_ms != 0 ? o->t0_utc_ms : DAYGEN_T0_MS;
	/* The day starts with the engine warming up. */
	g->phase = PH_IDLE;
	g->phase_left_s = 40;
	g->road_hdg = norm360(GRID_DEG + 90.0 * (double)(rnd64(g) % 4));
	g->hdg = g->road_hdg;
	g->seg_left_m = 0;
	g->hdop = 0.9;
	g->vis[GNSS_SYS_GPS] = 10;
	g->vis[GNSS_SYS_BEIDOU] = 16;
	g->vis[GNSS_SYS_GLONASS] = 0;
	g->vis[GNSS_SYS_GALILEO] = 6;
	for (i = 0; i < GNSS_SYS_COUNT; i++)
		g->blocked[i] = 0;
	g->coolant = AMBIENT_C;
	g->fuel_l = FUEL0_L;
	g->odo_km = ODO0_KM;
	g->batt_rest = 12.65;
	record_obd_clear(&g->slow);
}

/* One second of motion; returns the distance travelled (m). */
static double
drive_step(struct daygen *g, double *accel)
{
	double	v0 = g->v, target, vmax, a, dist, dh;

	*accel = 0;
	if (g->phase != PH_DRIVE) {
		g->v = 0;
		return 0;
	}
	if (g->hold_s > 0) {
		g->hold_s -= 1;
		g->v = 0;
		return 0;
	}
	if (g->seg_left_m <= 0)
		new_segment(g);
	target = g->street_v * (1.0 + 0.04 * gauss(g));
	if (g->slow_s > 0) {
		g->slow_s -= 1;
		target *= 0.45;
	} else if (chance(g, 0.004))
		g->slow_s = floor(uniform(g, 20, 90));
	if (g->turn_left_deg != 0.0 && target > TURN_MPS)
		target = TURN_MPS;
	vmax = target;
	if (g->phase_left_s <= 0) {
		/* The drive is over: pull over. */
		vmax = v0 - PULL_OVER_MPS2;
	} else if (g->stop_at_end) {
		/*
		 * The fastest v1 after this second from which the car still
		 * stops before the line: (v0 + v1) / 2 + v1^2 / (2 b) <= room.
		 */
		double room = g->seg_left_m - 2.0, qa = 1.0 / (2.0 * BRAKE_MPS2);
		double qc = v0 / 2.0 - room, disc = 0.25 - 4.0 * qa * qc;

		vmax = disc > 0 ? (-0.5 + sqrt(disc)) / (2.0 * qa) : 0;
		if (vmax < 0)
			vmax = 0;
	}
	if (target > vmax)
		target = vmax;
	a = clamp(target - v0, g->stop_at_end ? -4.0 : -2.5,
	    1.4 + 0.2 * gauss(g));
	g->v = v0 + a;
	if (g->v < 0.3 && target < 0.3)
		g->v = 0;
	if (g->v < 0)
		g->v = 0;
	dist = (v0 + g->v) / 2.0;
	/* Heading: follow the street, turning at TURN_DEG_S. */
	if (g->turn_left_deg != 0.0 && dist > 0) {
		dh = clamp(g->turn_left_deg, -TURN_DEG_S, TURN_DEG_S);
		g->hdg = norm360(g->hdg + dh);
		g->turn_left_deg -= dh;
	} else if (g->turn_left_deg == 0.0) {
		dh = hdg_diff(g->road_hdg, g->hdg);
		g->hdg = norm360(g->hdg + clamp(dh, -3, 3) +
		    (dist > 0 ? 0.3 * gauss(g) : 0));
	}
	g->x += dist * sin(g->hdg * M_PI / 180.0);
	g->y += dist * cos(g->hdg * M_PI / 180.0);
	g->seg_left_m -= dist;
	if (g->stop_at_end && g->seg_left_m < 8.0 && g->v < 0.5) {
		g->v = 0;
		g->seg_left_m = 0;
		g->stop_at_end = false;
		g->hold_s = floor(uniform(g, 15, 90));
	}
	*accel = a;
	return dist;
}

static void
sky_step(struct daygen *g, bool moving)
{
	static const int	lo[GNSS_SYS_COUNT] = { 8, 12, 0, 4 };
	static const int	hi[GNSS_SYS_COUNT] = { 12, 19, 0, 8 };
	int			i;

	for (i = 0; i < GNSS_SYS_COUNT; i++) {
		if (hi[i] == 0)
			continue;
		if (chance(g, 1.0 / 240.0)) {
			g->vis[i] += chance(g, 0.5) ? 1 : -1;
			if (g->vis[i] < lo[i])
				g->vis[i] = lo[i];
			if (g->vis[i] > hi[i])
				g->vis[i] = hi[i];
		}
		if (chance(g, moving ? 1.0 / 15.0 : 1.0 / 300.0)) {
			g->blocked[i] = (int)(rnd64(g) % (moving ? 4 : 2));
			if (g->blocked[i] > g->vis[i])
				g->blocked[i] = g->vis[i];
		}
	}
	g->hdop = clamp(g->hdop + 0.05 * (0.85 - g->hdop) + 0.03 * gauss(g) +
	    (moving ? 0.004 * (g->blocked[GNSS_SYS_BEIDOU] - 1) : 0),
	    0.5, 2.5);
}

static void
obd_step(struct daygen *g, struct obd_sample *o, double accel, bool cold_start)
{
	double	kmh = g->v * 3.6, rpm;
	int	a;

	record_obd_clear(o);
	if (g->phase == PH_PARK) {
		/* ECU asleep: rpm 0, speed 0, the adapter's ATRV. */
		o->rpm = 0;
		o->speed_kmh = 0;
		o->battery_v = qdec(g->batt_rest + 0.03 * gauss(g), 1);
		return;
	}
	if (kmh < 1.0)
		rpm = 720.0 + (g->engine_on_s < 90 ? 4.0 * (90 -
		    g->engine_on_s) : 0) + 12.0 * gauss(g);
	else {
		static const double	ratio[] = { 105, 60, 42, 33, 27 };
		static const double	upto[] = { 18, 32, 48, 65, 1e9 };
		size_t			i = 0;

		while (kmh > upto[i])
			i++;
		rpm = kmh * ratio[i];
		if (rpm < 850)
			rpm = 850;
		rpm += 250.0 * (accel > 0 ? accel : 0) + 20.0 * gauss(g);
	}
	o->rpm = round(rpm * 4.0) / 4.0;
	o->speed_kmh = round(kmh);
	o->battery_v = qdec(14.22 - (g->engine_on_s < 300 ? 0.25 : 0) +
	    0.02 * gauss(g), 3);
	/* The slow PIDs: read at start and every SLOW_POLL_S. */
	if (cold_start || (uint64_t)g->engine_on_s % SLOW_POLL_S == 0) {
		g->slow.coolant_c = round(g->coolant);
		a = (int)round(g->fuel_l / DAYGEN_TANK_L * 255.0 +
		    (g->v > 1 ? 0.8 * gauss(g) : 0));
		a = a < 0 ? 0 : a > 255 ? 255 : a;
		g->slow.fuel_level_pct = a * 100.0 / 255.0;
		g->slow.odometer_km = floor(g->odo_km * 10.0) / 10.0;
		g->slow.mil_on = 0;
	}
	o->coolant_c = g->slow.coolant_c;
	o->fuel_level_pct = g->slow.fuel_level_pct;
	o->odometer_km = g->slow.odometer_km;
	o->mil_on = g->slow.mil_on;
}

void
daygen_next(struct daygen *g, struct daygen_sample *out)
{
	struct fix	*f = &out->pos.fix;
	double		 accel, dist, v_rep, lat, lon, terrain, knots;
	bool		 was_on = g->engine_on_s > 0, on, cold;
	int		 i;

	memset(out, 0, sizeof(*out));
	/* Phase changes. */
	if (g->phase == PH_DRIVE) {
		if (g->phase_left_s <= 0 && g->v == 0)
			start_stop_phase(g);
	} else if (g->phase_left_s <= 0) {
		if (g->phase == PH_PARK) {
			/* Start the engine and warm up a little. */
			g->phase = PH_IDLE;
			g->phase_left_s = floor(uniform(g, 20, 60));
		} else {
			g->phase = PH_DRIVE;
			g->phase_left_s = floor(uniform(g, 900, 3600));
			g->seg_left_m = 0;
			g->hold_s = 0;
		}
	}
	on = g->phase != PH_PARK;
	cold = on && !was_on;
	dist = drive_step(g, &accel);
	g->phase_left_s -= 1;

	/* Engine, fuel, coolant, odometer. */
	if (on) {
		g->fuel_l -= 0.8 / 3600.0 + dist * 0.00007 +
		    (accel > 0 ? accel * 0.00004 : 0);
		if (g->coolant < 88.0)
			g->coolant += 0.16;
		else
			g->coolant = clamp(g->coolant + 0.05 * gauss(g), 86, 94);
		g->batt_rest = 12.70;
	} else {
		g->coolant += (AMBIENT_C - g->coolant) * 0.0008;
		g->batt_rest -= 0.000005;
	}
	g->odo_km += dist / 1000.0;
	obd_step(g, &out->pos.obd, accel, cold);
	g->engine_on_s = on ? g->engine_on_s + 1 : 0;

	/* GNSS. */
	sky_step(g, g->v > 0.5);
	g->ex = 0.97 * g->ex + 0.25 * gauss(g);
	g->ey = 0.97 * g->ey + 0.25 * gauss(g);
	g->ez = 0.98 * g->ez + 0.4 * gauss(g);
	lat = LAT0 + (g->y + g->ey) / M_PER_DEG;
	lon = LON0 + (g->x + g->ex) / (M_PER_DEG * cos(LAT0 * M_PI / 180.0));
	terrain = 505.0 + 8.0 * sin(g->x / 2100.0) + 5.0 * cos(g->y / 1700.0);
	v_rep = g->v + 0.05 * gauss(g);
	if (v_rep < 0)
		v_rep = -v_rep;
	knots = qdec(v_rep / KNOT_MPS, 3);

	f->t_utc_ms = g->t_ms;
	f->t_mono_ms = 0;
	f->lat_deg = nmea_coord(lat);
	f->lon_deg = nmea_coord(lon);
	f->alt_m = qdec(terrain + g->ez, 1);
	f->speed_mps = qdec(knots * KNOT_MPS, 3);
	f->heading_deg = v_rep < 0.3 ? NAN :
	    qdec(norm360(g->hdg + 0.2 * gauss(g)), 1);
	if (f->heading_deg >= 360.0)
		f->heading_deg = 0.0;
	f->hdop = qdec(g->hdop, 2);
	f->eph_m = qdec(g->hdop * 2.3, 3);
	f->mode = 3;
	f->sats_used = 0;
	f->sats_visible = 0;
	for (i = 0; i < GNSS_SYS_COUNT; i++) {
		int used = g->vis[i] - g->blocked[i] - (g->vis[i] > 6 ? 1 : 0);

		f->sys[i].visible = (uint16_t)g->vis[i];
		f->sys[i].used = (uint16_t)(used > 0 ? used : 0);
		f->sats_used += f->sys[i].used;
		f->sats_visible += f->sys[i].visible;
	}
	out->engine_on = on;
	out->true_speed_mps = g->v;
	g->t_ms += 1000;
	g->n++;
}
