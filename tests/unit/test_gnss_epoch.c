/* SPDX-License-Identifier: MIT */
/*
 * test_gnss_epoch.c - the pure GNSS logic: TPV merge per epoch, SKY
 * accounting, the validity ladder and the time-continuity check.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "gnss_epoch.h"
#include "record.h"

#define T0_MS	INT64_C(1772432045000)	/* 2026-03-02T06:14:05Z */
#define NOW_MS	UINT64_C(500000)

static struct gnss_tpv
tpv(int mode, int64_t t_ms, double lat, double lon)
{
	struct gnss_tpv t;

	gnss_tpv_clear(&t);
	if (mode != 0) {
		t.flags |= GNSS_TPV_MODE;
		t.mode = mode;
	}
	if (t_ms != 0) {
		t.flags |= GNSS_TPV_TIME;
		t.t_utc_ms = t_ms;
	}
	if (isfinite(lat) && isfinite(lon)) {
		t.flags |= GNSS_TPV_LATLON;
		t.lat_deg = lat;
		t.lon_deg = lon;
	}
	return t;
}

static void
with_speed(struct gnss_tpv *t, double speed, double track)
{
	if (isfinite(speed)) {
		t->flags |= GNSS_TPV_SPEED;
		t->speed_mps = speed;
	}
	if (isfinite(track)) {
		t->flags |= GNSS_TPV_TRACK;
		t->track_deg = track;
	}
}

Test(gnss_epoch, same_time_merges_later_fields_win, .timeout = 5)
{
	struct gnss_epoch e;
	struct gnss_tpv a, b, c, done;

	gnss_epoch_reset(&e);
	/* beidou-bd shape: gpsd-computed speed first, $GNRMC's second */
	a = tpv(3, T0_MS, 30.5723, 104.0665);
	with_speed(&a, 33.429, NAN);
	a.flags |= GNSS_TPV_ALT;
	a.alt_msl_m = 512.5;
	b = tpv(2, T0_MS, 30.5724, 104.0666);
	with_speed(&b, 0.134, 4.94);
	c = tpv(3, T0_MS + 1000, 30.5725, 104.0667);

	cr_assert_eq(gnss_epoch_add(&e, &a, &done), GNSS_EPOCH_OPENED);
	cr_assert_eq(gnss_epoch_add(&e, &b, &done), GNSS_EPOCH_MERGED);
	cr_assert_eq(e.ntpv, 2);
	cr_assert_eq(gnss_epoch_add(&e, &c, &done), GNSS_EPOCH_NEXT);
	cr_assert_eq(done.t_utc_ms, T0_MS);
	cr_assert_float_eq(done.speed_mps, 0.134, 1e-9);
	cr_assert_float_eq(done.track_deg, 4.94, 1e-9);
	cr_assert_eq(done.mode, 3, "mode is the maximum of the epoch");
	cr_assert_float_eq(done.lat_deg, 30.5724, 1e-9);
	cr_assert_float_eq(done.alt_msl_m, 512.5, 1e-9,
	    "fields absent from later TPVs are kept");
	/* the TPV that changed the time opened the next epoch */
	cr_assert(gnss_epoch_finish(&e, &done));
	cr_assert_eq(done.t_utc_ms, T0_MS + 1000);
	cr_assert(!gnss_epoch_finish(&e, &done));
}

Test(gnss_epoch, later_tpv_without_position_keeps_position, .timeout = 5)
{
	struct gnss_epoch e;
	struct gnss_tpv a, b, done;

	gnss_epoch_reset(&e);
	a = tpv(3, T0_MS, 30.5, 104.0);
	b = tpv(3, T0_MS, NAN, NAN);
	with_speed(&b, 1.5, NAN);
	gnss_epoch_add(&e, &a, &done);
	gnss_epoch_add(&e, &b, &done);
	cr_assert(gnss_epoch_finish(&e, &done));
	cr_assert(done.flags & GNSS_TPV_LATLON);
	cr_assert_float_eq(done.lat_deg, 30.5, 1e-9);
	cr_assert_float_eq(done.speed_mps, 1.5, 1e-9);
}

Test(gnss_epoch, straggler_after_settle_is_dropped, .timeout = 5)
{
	struct gnss_epoch e;
	struct gnss_tpv a, done;

	gnss_epoch_reset(&e);
	a = tpv(3, T0_MS, 30.5, 104.0);
	gnss_epoch_add(&e, &a, &done);
	cr_assert(gnss_epoch_finish(&e, &done));
	cr_assert_eq(gnss_epoch_add(&e, &a, &done), GNSS_EPOCH_LATE);
	cr_assert(!e.open);
	/* time-less TPVs have no epoch to be late for */
	a = tpv(1, 0, NAN, NAN);
	cr_assert_eq(gnss_epoch_add(&e, &a, &done), GNSS_EPOCH_OPENED);
}

Test(gnss_epoch, timeless_and_timed_tpvs_are_separate_epochs, .timeout = 5)
{
	struct gnss_epoch e;
	struct gnss_tpv a, b, done;

	gnss_epoch_reset(&e);
	a = tpv(3, 0, 31.2479, 121.5874);	/* beidou-bd start-up shape */
	b = tpv(3, T0_MS, 31.2482, 121.5874);
	gnss_epoch_add(&e, &a, &done);
	cr_assert_eq(gnss_epoch_add(&e, &b, &done), GNSS_EPOCH_NEXT);
	cr_assert(!(done.flags & GNSS_TPV_TIME));
}

Test(gnss_epoch, ladder_rungs_in_order, .timeout = 5)
{
	struct gnss_tpv t;
	struct fix f;

	memset(&f, 0x5a, sizeof(f));
	t = tpv(0, T0_MS, 30.5, 104.0);
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_NO_MODE, "mode never seen");
	t = tpv(1, T0_MS, 30.5, 104.0);
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_NO_MODE);
	t = tpv(3, 0, 30.5, 104.0);
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_NO_TIME);
	t = tpv(3, T0_MS, NAN, NAN);
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_NO_LATLON);
	/* flag set but a value NaN: isfinite() is the real test */
	t = tpv(3, T0_MS, 30.5, 104.0);
	t.lat_deg = NAN;
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_NO_LATLON);
	t = tpv(3, T0_MS, 30.5, 104.0);
	t.lon_deg = INFINITY;
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_NO_LATLON);
	t = tpv(3, T0_MS, 91.0, 104.0);
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_NO_LATLON);
	/* rejected epochs leave the output alone */
	cr_assert_eq(f.mode, 0x5a5a5a5a);
	cr_assert_str_eq(gnss_verdict_name(GNSS_VERDICT_HDOP), "hdop too high");
}

Test(gnss_epoch, fix_fields_and_unknowns, .timeout = 5)
{
	struct gnss_tpv t;
	struct fix f;

	t = tpv(2, T0_MS, 30.5, 104.0);
	t.flags |= GNSS_TPV_ALT | GNSS_TPV_EPH;
	t.alt_msl_m = 500.0;
	t.eph_m = 12.5;
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX);
	cr_assert_eq(f.t_utc_ms, T0_MS);
	cr_assert_eq(f.t_mono_ms, NOW_MS);
	cr_assert_eq(f.mode, 2);
	cr_assert(isnan(f.alt_m), "altitude only for 3D fixes");
	cr_assert(isnan(f.speed_mps));
	cr_assert(isnan(f.heading_deg));
	cr_assert(isnan(f.hdop), "unknown hdop passes as NaN");
	cr_assert_float_eq(f.eph_m, 12.5, 1e-9);
	cr_assert_eq(f.sats_used, -1);
	cr_assert_eq(f.sats_visible, -1);

	t.mode = 3;
	with_speed(&t, 16.5, 271.0);
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX);
	cr_assert_eq(f.mode, 3);
	cr_assert_float_eq(f.alt_m, 500.0, 1e-9);
	cr_assert_float_eq(f.speed_mps, 16.5, 1e-9);
	cr_assert_float_eq(f.heading_deg, 271.0, 1e-9);
}

Test(gnss_epoch, hdop_gate, .timeout = 5)
{
	struct gnss_sky s;
	struct gnss_tpv t;
	struct fix f;

	gnss_sky_reset(&s);
	t = tpv(3, T0_MS, 30.5, 104.0);
	gnss_sky_hdop(&s, 7.5, NOW_MS);
	cr_assert_eq(gnss_epoch_judge(&t, &s, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_HDOP);
	cr_assert_eq(gnss_epoch_judge(&t, &s, 0.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "max_hdop 0 disables the gate");
	cr_assert_eq(gnss_epoch_judge(&t, &s, NAN, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "max_hdop NaN disables the gate");
	gnss_sky_hdop(&s, NAN, NOW_MS);	/* a SKY without hdop */
	cr_assert_eq(gnss_epoch_judge(&t, &s, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_HDOP, "a SKY without hdop keeps the last one");
	gnss_sky_hdop(&s, 5.0, NOW_MS);
	cr_assert_eq(gnss_epoch_judge(&t, &s, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "hdop equal to the limit passes");
	cr_assert_float_eq(f.hdop, 5.0, 1e-9);
	gnss_sky_hdop(&s, 9.9, NOW_MS);
	cr_assert_eq(gnss_epoch_judge(&t, &s, 5.0, 0.0,
	    NOW_MS + GNSS_SKY_MAX_AGE_MS + 1, &f), GNSS_VERDICT_FIX,
	    "an old hdop is unknown");
	cr_assert(isnan(f.hdop));
}

Test(gnss_epoch, sky_counts_per_constellation, .timeout = 5)
{
	struct gnss_sky s;
	struct gnss_tpv t;
	struct fix f;

	gnss_sky_reset(&s);
	cr_assert(!gnss_sky_sats_now(&s, NOW_MS));
	gnss_sky_sats_begin(&s);
	gnss_sky_sats_add(&s, 0, 25, 25, true);		/* GPS */
	gnss_sky_sats_add(&s, 0, 32, 32, false);
	gnss_sky_sats_add(&s, 3, 402, 2, true);		/* BeiDou C02 */
	gnss_sky_sats_add(&s, 3, 403, 3, true);
	gnss_sky_sats_add(&s, 3, 441, 41, false);	/* BDS-3 */
	gnss_sky_sats_add(&s, 6, 65, 1, true);		/* GLONASS */
	gnss_sky_sats_add(&s, 2, 301, 1, false);	/* Galileo */
	gnss_sky_sats_add(&s, 1, 133, 133, false);	/* SBAS: total only */
	gnss_sky_sats_add(&s, 0, 0, 0, true);		/* no id: ignored */
	/* no svid: gpsd left gnssid 0, the PRN range tells */
	gnss_sky_sats_add(&s, 0, 405, 0, false);
	gnss_sky_sats_add(&s, 0, 70, 0, true);
	gnss_sky_sats_end(&s, NOW_MS);
	cr_assert(gnss_sky_sats_now(&s, NOW_MS));
	cr_assert_eq(s.visible, 10);
	cr_assert_eq(s.used, 5);
	cr_assert_eq(s.sys[GNSS_SYS_GPS].visible, 2);
	cr_assert_eq(s.sys[GNSS_SYS_GPS].used, 1);
	cr_assert_eq(s.sys[GNSS_SYS_BEIDOU].visible, 4);
	cr_assert_eq(s.sys[GNSS_SYS_BEIDOU].used, 2);
	cr_assert_eq(s.sys[GNSS_SYS_GLONASS].visible, 2);
	cr_assert_eq(s.sys[GNSS_SYS_GLONASS].used, 2);
	cr_assert_eq(s.sys[GNSS_SYS_GALILEO].visible, 1);
	cr_assert_eq(s.sys[GNSS_SYS_GALILEO].used, 0);

	/* a DOP-only SKY refreshes hdop and keeps the counts */
	gnss_sky_hdop(&s, 1.3, NOW_MS + 1000);
	t = tpv(3, T0_MS, 30.5, 104.0);
	cr_assert_eq(gnss_epoch_judge(&t, &s, 5.0, 0.0, NOW_MS + 1000, &f),
	    GNSS_VERDICT_FIX);
	cr_assert_eq(f.sats_used, 5);
	cr_assert_eq(f.sats_visible, 10);
	cr_assert_eq(f.sys[GNSS_SYS_BEIDOU].used, 2);
	cr_assert_float_eq(f.hdop, 1.3, 1e-9);

	/* the next satellite array replaces the counts */
	gnss_sky_sats_begin(&s);
	gnss_sky_sats_add(&s, 3, 401, 1, false);
	gnss_sky_sats_end(&s, NOW_MS + 2000);
	cr_assert_eq(s.visible, 1);
	cr_assert_eq(s.sys[GNSS_SYS_GPS].visible, 0);
	cr_assert_eq(s.sys[GNSS_SYS_BEIDOU].visible, 1);
	cr_assert(!gnss_sky_sats_now(&s, NOW_MS + 2000 +
	    GNSS_SKY_MAX_AGE_MS + 1), "counts expire");
}

Test(gnss_epoch, continuity_steps, .timeout = 5)
{
	struct gnss_continuity c;
	int64_t dg, dm;

	gnss_continuity_reset(&c);
	cr_assert(!gnss_continuity_check(&c, T0_MS, 1000, &dg, &dm));
	cr_assert(!gnss_continuity_check(&c, T0_MS + 1000, 2000, &dg, &dm));
	/* a 60 s outage moves both clocks: not a step */
	cr_assert(!gnss_continuity_check(&c, T0_MS + 61000, 62000, &dg,
	    &dm));
	/* bt451: UTC steps back about 52 min */
	cr_assert(gnss_continuity_check(&c, T0_MS + 61000 - 3119500, 63000,
	    &dg, &dm));
	cr_assert_eq(dg, -3119500);
	cr_assert_eq(dm, 1000);
	/* nl2008u: a 1185 s gap while the monotonic clock moved 1 s */
	cr_assert(gnss_continuity_check(&c, T0_MS + 61000 - 3119500 +
	    1185000, 64000, &dg, &dm));
	cr_assert_eq(dg, 1185000);
	/* and steady again */
	cr_assert(!gnss_continuity_check(&c, T0_MS + 61000 - 3119500 +
	    1186000, 65000, &dg, &dm));
	/* within tolerance: replay faster than real time */
	cr_assert(!gnss_continuity_check(&c, T0_MS + 61000 - 3119500 +
	    1186000 + GNSS_STEP_TOLERANCE_MS, 65000, &dg, &dm));
	gnss_continuity_reset(&c);
	cr_assert(!gnss_continuity_check(&c, 0, 0, NULL, NULL),
	    "after a reset the first fix is never a step");
}

Test(gnss_epoch, implausible_times_rejected, .timeout = 5)
{
	static const struct {
		int64_t	t_ms;
		enum gnss_verdict want;
	} cases[] = {
		{ INT64_C(-315619200000), GNSS_VERDICT_BAD_TIME },  /* 1960 */
		{ GNSS_TIME_MIN_MS - 1, GNSS_VERDICT_BAD_TIME },
		{ GNSS_TIME_MIN_MS, GNSS_VERDICT_FIX },
		{ INT64_C(2058825600000), GNSS_VERDICT_FIX },	/* 2035: +1024 wk */
		{ GNSS_TIME_MAX_MS - 1, GNSS_VERDICT_FIX },
		{ GNSS_TIME_MAX_MS, GNSS_VERDICT_BAD_TIME },
		{ INT64_C(7258118400000), GNSS_VERDICT_BAD_TIME },  /* 2200 */
	};
	struct gnss_tpv	t;
	struct fix	f;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = tpv(3, cases[i].t_ms, 30.5, 104.0);
		cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
		    cases[i].want, "case %zu", i);
	}
	cr_assert_str_eq(gnss_verdict_name(GNSS_VERDICT_BAD_TIME),
	    "implausible time");
}

Test(gnss_epoch, out_of_range_fields_become_unknown, .timeout = 5)
{
	struct gnss_tpv	t;
	struct fix	f;

	t = tpv(3, T0_MS, 30.5, 104.0);
	t.flags |= GNSS_TPV_ALT | GNSS_TPV_EPH;
	t.alt_msl_m = 1e308;
	t.eph_m = -1.0;
	with_speed(&t, -5.0, 720.0);
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "the position itself is still good");
	cr_assert(isnan(f.alt_m));
	cr_assert(isnan(f.eph_m));
	cr_assert(isnan(f.speed_mps));
	cr_assert(isnan(f.heading_deg));

	with_speed(&t, GNSS_SPEED_MAX_MPS, 360.0);
	t.alt_msl_m = GNSS_ALT_MIN_M;
	t.eph_m = 0.0;
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX);
	cr_assert_float_eq(f.speed_mps, GNSS_SPEED_MAX_MPS, 1e-9);
	cr_assert_float_eq(f.heading_deg, 0.0, 1e-9, "360 is north");
	cr_assert_float_eq(f.alt_m, GNSS_ALT_MIN_M, 1e-9);
	cr_assert_float_eq(f.eph_m, 0.0, 1e-9);
}

Test(gnss_epoch, eph_gate, .timeout = 5)
{
	struct gnss_tpv	t;
	struct fix	f;

	/* unicore-um621.log: the first fix after reacquisition. */
	t = tpv(3, T0_MS, 44.0689, -121.3142);
	t.flags |= GNSS_TPV_EPH;
	t.eph_m = 1899.81;
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 200.0, NOW_MS, &f),
	    GNSS_VERDICT_EPH);
	cr_assert_str_eq(gnss_verdict_name(GNSS_VERDICT_EPH),
	    "error estimate too large");
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 0.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "0 disables the gate");
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, NAN, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "NaN disables the gate");
	t.eph_m = 200.0;
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 200.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "equal to the limit passes");
	t.flags &= ~GNSS_TPV_EPH;
	t.eph_m = NAN;
	cr_assert_eq(gnss_epoch_judge(&t, NULL, 5.0, 200.0, NOW_MS, &f),
	    GNSS_VERDICT_FIX, "an unknown eph passes");
}
