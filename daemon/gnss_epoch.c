/* SPDX-License-Identifier: MIT */
/*
 * gnss_epoch.c - epoch assembler, SKY accounting, validity ladder and
 * time-continuity check for the gpsd adapter.  Pure: no I/O, no clocks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gnss_epoch.h"
#include "record.h"

/* u-blox gnssId numbering, as in gpsd's satellite_t.gnssid. */
#define UBX_GNSSID_GPS	0
#define UBX_GNSSID_GAL	2
#define UBX_GNSSID_BD	3
#define UBX_GNSSID_GLO	6

/* gpsd's PRN ranges (NMEA 2.x-4.0 numbering, extended by gpsd). */
#define PRN_GPS_MIN	1
#define PRN_GPS_MAX	32
#define PRN_GLO_MIN	64
#define PRN_GLO_MAX	96
#define PRN_GAL_MIN	301
#define PRN_GAL_MAX	336
#define PRN_BD_MIN	401	/* gpsd: BeiDou PRN = 400 + svid */
#define PRN_BD_MAX	463	/* BDS-3 goes up to C63 */

#define LAT_MAX_DEG	90.0
#define LON_MAX_DEG	180.0

void
gnss_tpv_clear(struct gnss_tpv *t)
{
	t->flags = 0;
	t->mode = 0;
	t->t_utc_ms = 0;
	t->lat_deg = NAN;
	t->lon_deg = NAN;
	t->alt_msl_m = NAN;
	t->speed_mps = NAN;
	t->track_deg = NAN;
	t->eph_m = NAN;
}

void
gnss_epoch_reset(struct gnss_epoch *e)
{
	e->open = false;
	e->ntpv = 0;
	gnss_tpv_clear(&e->acc);
	e->have_last = false;
	e->last_utc_ms = 0;
}

static bool
same_key(const struct gnss_tpv *a, const struct gnss_tpv *b)
{
	bool ta = (a->flags & GNSS_TPV_TIME) != 0;
	bool tb = (b->flags & GNSS_TPV_TIME) != 0;

	if (ta != tb)
		return false;
	return !ta || a->t_utc_ms == b->t_utc_ms;
}

/* Later TPVs win for the fields they carry; mode only ever goes up. */
static void
merge(struct gnss_tpv *acc, const struct gnss_tpv *t)
{
	if (t->flags & GNSS_TPV_MODE) {
		if (!(acc->flags & GNSS_TPV_MODE) || t->mode > acc->mode)
			acc->mode = t->mode;
	}
	if (t->flags & GNSS_TPV_TIME)
		acc->t_utc_ms = t->t_utc_ms;
	if (t->flags & GNSS_TPV_LATLON) {
		acc->lat_deg = t->lat_deg;
		acc->lon_deg = t->lon_deg;
	}
	if (t->flags & GNSS_TPV_ALT)
		acc->alt_msl_m = t->alt_msl_m;
	if (t->flags & GNSS_TPV_SPEED)
		acc->speed_mps = t->speed_mps;
	if (t->flags & GNSS_TPV_TRACK)
		acc->track_deg = t->track_deg;
	if (t->flags & GNSS_TPV_EPH)
		acc->eph_m = t->eph_m;
	acc->flags |= t->flags;
}

static void
epoch_close(struct gnss_epoch *e, struct gnss_tpv *done)
{
	*done = e->acc;
	if (e->acc.flags & GNSS_TPV_TIME) {
		e->have_last = true;
		e->last_utc_ms = e->acc.t_utc_ms;
	}
	e->open = false;
	e->ntpv = 0;
	gnss_tpv_clear(&e->acc);
}

static void
epoch_open(struct gnss_epoch *e, const struct gnss_tpv *t)
{
	gnss_tpv_clear(&e->acc);
	merge(&e->acc, t);
	e->open = true;
	e->ntpv = 1;
}

enum gnss_epoch_add
gnss_epoch_add(struct gnss_epoch *e, const struct gnss_tpv *t,
    struct gnss_tpv *done)
{
	if (e->open && same_key(&e->acc, t)) {
		merge(&e->acc, t);
		e->ntpv++;
		return GNSS_EPOCH_MERGED;
	}
	if ((t->flags & GNSS_TPV_TIME) && e->have_last &&
	    t->t_utc_ms == e->last_utc_ms)
		return GNSS_EPOCH_LATE;
	if (e->open) {
		epoch_close(e, done);
		epoch_open(e, t);
		return GNSS_EPOCH_NEXT;
	}
	epoch_open(e, t);
	return GNSS_EPOCH_OPENED;
}

bool
gnss_epoch_finish(struct gnss_epoch *e, struct gnss_tpv *done)
{
	if (!e->open)
		return false;
	epoch_close(e, done);
	return true;
}

void
gnss_sky_reset(struct gnss_sky *s)
{
	memset(s, 0, sizeof(*s));
	s->hdop = NAN;
	s->visible = -1;
	s->used = -1;
}

void
gnss_sky_hdop(struct gnss_sky *s, double hdop, uint64_t now_mono_ms)
{
	if (!isfinite(hdop))
		return;
	s->have_hdop = true;
	s->hdop = hdop;
	s->hdop_mono_ms = now_mono_ms;
}

void
gnss_sky_sats_begin(struct gnss_sky *s)
{
	s->n_visible = 0;
	s->n_used = 0;
	memset(s->n_sys, 0, sizeof(s->n_sys));
}

static int
sys_from_gnssid(int gnssid)
{
	switch (gnssid) {
	case UBX_GNSSID_GPS:
		return GNSS_SYS_GPS;
	case UBX_GNSSID_BD:
		return GNSS_SYS_BEIDOU;
	case UBX_GNSSID_GLO:
		return GNSS_SYS_GLONASS;
	case UBX_GNSSID_GAL:
		return GNSS_SYS_GALILEO;
	default:
		return -1;	/* SBAS, QZSS, IMES, NavIC: totals only */
	}
}

/* Without an svid gpsd leaves gnssid at 0; its PRN ranges still tell. */
static int
sys_from_prn(int prn)
{
	if (prn >= PRN_GPS_MIN && prn <= PRN_GPS_MAX)
		return GNSS_SYS_GPS;
	if (prn >= PRN_GLO_MIN && prn <= PRN_GLO_MAX)
		return GNSS_SYS_GLONASS;
	if (prn >= PRN_GAL_MIN && prn <= PRN_GAL_MAX)
		return GNSS_SYS_GALILEO;
	if (prn >= PRN_BD_MIN && prn <= PRN_BD_MAX)
		return GNSS_SYS_BEIDOU;
	return -1;
}

void
gnss_sky_sats_add(struct gnss_sky *s, int gnssid, int prn, int svid,
    bool used)
{
	int sys;

	if (prn <= 0 && svid <= 0)
		return;
	sys = svid > 0 ? sys_from_gnssid(gnssid) : sys_from_prn(prn);
	s->n_visible++;
	if (used)
		s->n_used++;
	if (sys < 0)
		return;
	if (s->n_sys[sys].visible < UINT16_MAX)
		s->n_sys[sys].visible++;
	if (used && s->n_sys[sys].used < UINT16_MAX)
		s->n_sys[sys].used++;
}

void
gnss_sky_sats_end(struct gnss_sky *s, uint64_t now_mono_ms)
{
	s->have_sats = true;
	s->sats_mono_ms = now_mono_ms;
	s->visible = s->n_visible;
	s->used = s->n_used;
	memcpy(s->sys, s->n_sys, sizeof(s->sys));
}

static bool
fresh(uint64_t then_ms, uint64_t now_ms)
{
	return now_ms < then_ms || now_ms - then_ms <= GNSS_SKY_MAX_AGE_MS;
}

double
gnss_sky_hdop_now(const struct gnss_sky *s, uint64_t now_mono_ms)
{
	if (s == NULL || !s->have_hdop || !fresh(s->hdop_mono_ms, now_mono_ms))
		return NAN;
	return s->hdop;
}

bool
gnss_sky_sats_now(const struct gnss_sky *s, uint64_t now_mono_ms)
{
	return s != NULL && s->have_sats && fresh(s->sats_mono_ms, now_mono_ms);
}

const char *
gnss_verdict_name(enum gnss_verdict v)
{
	switch (v) {
	case GNSS_VERDICT_FIX:
		return "fix";
	case GNSS_VERDICT_NO_MODE:
		return "mode below 2D";
	case GNSS_VERDICT_NO_TIME:
		return "no time";
	case GNSS_VERDICT_BAD_TIME:
		return "implausible time";
	case GNSS_VERDICT_NO_LATLON:
		return "no position";
	case GNSS_VERDICT_HDOP:
		return "hdop too high";
	case GNSS_VERDICT_EPH:
		return "error estimate too large";
	}
	return "unknown";
}

/* Finite and within [lo, hi]. */
static bool
in_range(double v, double lo, double hi)
{
	return isfinite(v) && v >= lo && v <= hi;
}

enum gnss_verdict
gnss_epoch_judge(const struct gnss_tpv *t, const struct gnss_sky *sky,
    double max_hdop, double max_eph_m, uint64_t now_mono_ms, struct fix *out)
{
	double hdop;

	if (!(t->flags & GNSS_TPV_MODE) || t->mode < 2)
		return GNSS_VERDICT_NO_MODE;
	if (!(t->flags & GNSS_TPV_TIME) || t->t_utc_ms == 0)
		return GNSS_VERDICT_NO_TIME;
	if (t->t_utc_ms < GNSS_TIME_MIN_MS || t->t_utc_ms >= GNSS_TIME_MAX_MS)
		return GNSS_VERDICT_BAD_TIME;
	if (!(t->flags & GNSS_TPV_LATLON) || !isfinite(t->lat_deg) ||
	    !isfinite(t->lon_deg) || fabs(t->lat_deg) > LAT_MAX_DEG ||
	    fabs(t->lon_deg) > LON_MAX_DEG)
		return GNSS_VERDICT_NO_LATLON;
	hdop = gnss_sky_hdop_now(sky, now_mono_ms);
	if (isfinite(hdop) && isfinite(max_hdop) && max_hdop > 0 &&
	    hdop > max_hdop)
		return GNSS_VERDICT_HDOP;
	if ((t->flags & GNSS_TPV_EPH) && isfinite(t->eph_m) &&
	    isfinite(max_eph_m) && max_eph_m > 0 && t->eph_m > max_eph_m)
		return GNSS_VERDICT_EPH;

	memset(out, 0, sizeof(*out));
	out->t_utc_ms = t->t_utc_ms;
	out->t_mono_ms = now_mono_ms;
	out->lat_deg = t->lat_deg;
	out->lon_deg = t->lon_deg;
	out->mode = t->mode >= 3 ? 3 : 2;
	out->alt_m = out->mode == 3 && (t->flags & GNSS_TPV_ALT) &&
	    in_range(t->alt_msl_m, GNSS_ALT_MIN_M, GNSS_ALT_MAX_M) ?
	    t->alt_msl_m : NAN;
	out->speed_mps = (t->flags & GNSS_TPV_SPEED) &&
	    in_range(t->speed_mps, 0.0, GNSS_SPEED_MAX_MPS) ?
	    t->speed_mps : NAN;
	/* 360 is north as well; anything else outside [0, 360] is junk. */
	out->heading_deg = (t->flags & GNSS_TPV_TRACK) &&
	    in_range(t->track_deg, 0.0, 360.0) ?
	    fmod(t->track_deg, 360.0) : NAN;
	out->eph_m = (t->flags & GNSS_TPV_EPH) &&
	    in_range(t->eph_m, 0.0, GNSS_EPH_MAX_M) ? t->eph_m : NAN;
	out->hdop = hdop;
	if (gnss_sky_sats_now(sky, now_mono_ms)) {
		out->sats_used = sky->used;
		out->sats_visible = sky->visible;
		memcpy(out->sys, sky->sys, sizeof(out->sys));
	} else {
		out->sats_used = -1;
		out->sats_visible = -1;
	}
	return GNSS_VERDICT_FIX;
}

void
gnss_continuity_reset(struct gnss_continuity *c)
{
	c->have = false;
	c->utc_ms = 0;
	c->mono_ms = 0;
}

bool
gnss_continuity_check(struct gnss_continuity *c, int64_t utc_ms,
    uint64_t mono_ms, int64_t *dgnss_ms, int64_t *dmono_ms)
{
	int64_t dg, dm;
	bool step;

	if (dgnss_ms != NULL)
		*dgnss_ms = 0;
	if (dmono_ms != NULL)
		*dmono_ms = 0;
	if (!c->have) {
		c->have = true;
		c->utc_ms = utc_ms;
		c->mono_ms = mono_ms;
		return false;
	}
	dg = utc_ms - c->utc_ms;
	dm = (int64_t)(mono_ms - c->mono_ms);
	step = dg < 0 || llabs(dg - dm) > GNSS_STEP_TOLERANCE_MS;
	c->utc_ms = utc_ms;
	c->mono_ms = mono_ms;
	if (dgnss_ms != NULL)
		*dgnss_ms = dg;
	if (dmono_ms != NULL)
		*dmono_ms = dm;
	return step;
}
