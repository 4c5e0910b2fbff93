/* SPDX-License-Identifier: MIT */
/*
 * test_vcheck.c - the daily check (vcheck.h): every item on both sides
 * of each of its limits (a reading exactly on a limit is on the better
 * side), the OBD link states, readings missing, the overall result, the
 * JSON and the text table.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record.h"
#include "util.h"
#include "vcheck.h"

#define MIB		1048576ULL
#define HOUR_MS		(3600LL * 1000)

enum { BATTERY, COOLANT, MIL, FUEL, GNSS, STORAGE, SYNC, CLOCK };

static const char *const names[VCHECK_ITEMS] = {
	"battery", "coolant", "mil_dtc", "fuel", "gnss", "storage", "sync",
	"clock"
};

TestSuite(vcheck, .timeout = 30);

/* A healthy car, parked with the ignition on, engine off, and a fix. */
static void
healthy(struct vcheck_snapshot *s)
{
	vcheck_snapshot_clear(s);
	s->obd = VCHECK_OBD_UP;
	util_strlcpy(s->obd_state, "up", sizeof(s->obd_state));
	s->obd_age_ms = 1500;
	s->rpm = 0;
	s->battery_v = 12.6;
	s->coolant_c = 20;
	s->fuel_level_pct = 50;
	s->run_time_s = 0;
	s->mil_on = 0;
	s->dtcs_read = true;
	s->fix = VCHECK_FIX_3D;
	s->sats_used = 9;
	s->sats_visible = 14;
	s->hdop = 0.9;
	s->fix_age_ms = 400;
	s->fs_known = true;
	s->fs_free_bytes = 10240 * MIB;
	s->db_bytes = 10 * MIB;
	s->max_size_mb = 512;
	s->platform = false;
	s->now_utc_ms = 1790902800000LL;
	s->gnss_time = true;
	s->clock_offset_s = 0.3;
	s->clock_trusted = true;
	s->clock_fixes = 100;
	s->clock_synced = true;
}

static struct vcheck_result
run(const struct vcheck_snapshot *s)
{
	struct vcheck_limits	l;
	struct vcheck_result	r;

	vcheck_limits_default(&l);
	vcheck_run(s, &l, &r);
	cr_assert_eq(r.n, VCHECK_ITEMS);
	return r;
}

static enum vcheck_status
status_of(const struct vcheck_snapshot *s, int item)
{
	struct vcheck_result	r = run(s);

	return r.item[item].status;
}

static void
expect(const struct vcheck_snapshot *s, int item, enum vcheck_status want,
    const char *note_part)
{
	struct vcheck_result	r = run(s);

	cr_expect_eq(r.item[item].status, want, "%s: %s, want %s (note "
	    "\"%s\")", names[item], vcheck_status_name(r.item[item].status),
	    vcheck_status_name(want), r.item[item].note);
	if (note_part != NULL)
		cr_expect(strstr(r.item[item].note, note_part) != NULL,
		    "%s: note \"%s\" lacks \"%s\"", names[item],
		    r.item[item].note, note_part);
}

struct edge {
	double			v;
	enum vcheck_status	want;
};

Test(vcheck, status_names)
{
	enum vcheck_status	s;

	cr_expect_str_eq(vcheck_status_name(VCHECK_PASS), "pass");
	cr_expect_str_eq(vcheck_status_name(VCHECK_WARN), "warn");
	cr_expect_str_eq(vcheck_status_name(VCHECK_FAIL), "fail");
	cr_expect_null(vcheck_status_name((enum vcheck_status)3));
	cr_expect_eq(vcheck_status_parse("fail", &s), 0);
	cr_expect_eq(s, VCHECK_FAIL);
	cr_expect_eq(vcheck_status_parse("ok", &s), -1);
	cr_expect_eq(vcheck_status_parse(NULL, &s), -1);
}

Test(vcheck, healthy_passes_every_item)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;
	size_t			i;

	healthy(&s);
	r = run(&s);
	cr_expect_eq(r.overall, VCHECK_PASS);
	for (i = 0; i < VCHECK_ITEMS; i++) {
		cr_expect_str_eq(r.item[i].name, names[i]);
		cr_expect_eq(r.item[i].status, VCHECK_PASS, "%s: %s (%s)",
		    names[i], vcheck_status_name(r.item[i].status),
		    r.item[i].note);
	}
	cr_expect_float_eq(r.item[BATTERY].value, 12.6, 1e-9);
	cr_expect_str_eq(r.item[BATTERY].unit, "V");
	cr_expect_float_eq(r.item[BATTERY].age_s, 1.5, 1e-9);
	cr_expect_float_eq(r.item[COOLANT].value, 20, 1e-9);
	cr_expect_float_eq(r.item[MIL].value, 0, 1e-9);
	cr_expect_float_eq(r.item[FUEL].value, 50, 1e-9);
	cr_expect_float_eq(r.item[GNSS].value, 9, 1e-9);
	cr_expect_float_eq(r.item[STORAGE].value, 10240, 1e-9);
	cr_expect(isnan(r.item[SYNC].value));
	cr_expect_float_eq(r.item[CLOCK].value, 0.3, 1e-9);
	cr_expect(strstr(r.item[GNSS].note, "3D fix") != NULL);
	cr_expect(strstr(r.item[GNSS].note, "hdop 0.90") != NULL);
	cr_expect(strstr(r.item[SYNC].note, "no platform configured") !=
	    NULL);
	cr_expect(strstr(r.item[MIL].note, "MIL off") != NULL);
	cr_expect(strstr(r.item[MIL].note, "no trouble codes") != NULL);
}

Test(vcheck, battery_engine_off_edges)
{
	static const struct edge e[] = {
		{ 11.79, VCHECK_FAIL }, { 11.8, VCHECK_WARN },
		{ 12.19, VCHECK_WARN }, { 12.2, VCHECK_PASS },
		{ 14.8, VCHECK_PASS }, { 14.81, VCHECK_WARN },
		{ 15.5, VCHECK_WARN }, { 15.51, VCHECK_FAIL },
	};
	struct vcheck_snapshot	s;
	size_t			i;

	for (i = 0; i < NELEM(e); i++) {
		healthy(&s);
		s.battery_v = e[i].v;
		cr_expect_eq(status_of(&s, BATTERY), e[i].want, "%.2f V", e[i].v);
	}
	healthy(&s);
	s.battery_v = 11.5;
	expect(&s, BATTERY, VCHECK_FAIL, "below 11.8 V");
	expect(&s, BATTERY, VCHECK_FAIL, "engine off");
}

Test(vcheck, battery_engine_running_edges)
{
	static const struct edge e[] = {
		{ 12.59, VCHECK_FAIL }, { 12.6, VCHECK_WARN },
		{ 13.19, VCHECK_WARN }, { 13.2, VCHECK_PASS },
		{ 14.8, VCHECK_PASS }, { 14.81, VCHECK_WARN },
		{ 15.5, VCHECK_WARN }, { 15.51, VCHECK_FAIL },
	};
	struct vcheck_snapshot	s;
	size_t			i;

	for (i = 0; i < NELEM(e); i++) {
		healthy(&s);
		s.rpm = 800;
		s.battery_v = e[i].v;
		cr_expect_eq(status_of(&s, BATTERY), e[i].want, "%.2f V", e[i].v);
	}
	healthy(&s);
	s.rpm = 800;
	s.battery_v = 12.4;
	expect(&s, BATTERY, VCHECK_FAIL, "the alternator does not charge");
	expect(&s, BATTERY, VCHECK_FAIL, "engine running");
}

Test(vcheck, battery_engine_state_from_rpm)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;

	/* 12.5 V: fine with the engine off, a fault with it running. */
	healthy(&s);
	s.battery_v = 12.5;
	s.rpm = 399.9;
	expect(&s, BATTERY, VCHECK_PASS, "engine off");
	s.rpm = 400;
	expect(&s, BATTERY, VCHECK_FAIL, "engine running");
	s.rpm = NAN;
	expect(&s, BATTERY, VCHECK_PASS, "engine state unknown");
	/* The limits reported are the ones applied. */
	s.rpm = 800;
	r = run(&s);
	cr_expect_str_eq(r.item[BATTERY].limit[0].key, "fail_below");
	cr_expect_float_eq(r.item[BATTERY].limit[0].v, 12.6, 1e-9);
	cr_expect_float_eq(r.item[BATTERY].limit[1].v, 13.2, 1e-9);
	s.rpm = 0;
	r = run(&s);
	cr_expect_float_eq(r.item[BATTERY].limit[0].v, 11.8, 1e-9);
	cr_expect_float_eq(r.item[BATTERY].limit[1].v, 12.2, 1e-9);
	cr_expect_str_eq(r.item[BATTERY].limit[3].key, "fail_above");
	cr_expect_float_eq(r.item[BATTERY].limit[3].v, 15.5, 1e-9);
}

Test(vcheck, battery_ignition_off_and_missing)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;

	/* ECU asleep: the adapter's voltage, judged as engine off. */
	healthy(&s);
	s.obd = VCHECK_OBD_NO_ECU;
	s.rpm = 0;
	s.battery_v = 12.3;
	expect(&s, BATTERY, VCHECK_PASS, "ignition off");
	s.battery_v = 12.1;
	expect(&s, BATTERY, VCHECK_WARN, "battery low");
	healthy(&s);
	s.battery_v = NAN;
	expect(&s, BATTERY, VCHECK_WARN,
	    "no battery voltage reading in the last 60 s");
	r = run(&s);
	cr_expect(isnan(r.item[BATTERY].value));
}

Test(vcheck, obd_not_configured_passes_unchecked)
{
	struct vcheck_snapshot	s;
	int			i;

	healthy(&s);
	s.obd = VCHECK_OBD_NONE;
	s.battery_v = 3;	/* ignored */
	s.fuel_level_pct = 0;
	s.mil_on = 1;
	for (i = BATTERY; i <= FUEL; i++)
		expect(&s, i, VCHECK_PASS, "not checked: no OBD adapter");
	cr_expect_eq(run(&s).overall, VCHECK_PASS);
}

Test(vcheck, obd_down_fails_every_obd_item)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;
	int			i;

	healthy(&s);
	vcheck_snapshot_clear(&s);
	s.obd = VCHECK_OBD_DOWN;
	util_strlcpy(s.obd_state, "down", sizeof(s.obd_state));
	util_strlcpy(s.obd_error, "/dev/ttyUSB0: no reply to ATZ",
	    sizeof(s.obd_error));
	for (i = BATTERY; i <= FUEL; i++)
		expect(&s, i, VCHECK_FAIL, "OBD adapter not answering (down: "
		    "/dev/ttyUSB0: no reply to ATZ)");
	r = run(&s);
	for (i = BATTERY; i <= FUEL; i++)
		cr_expect(isnan(r.item[i].value), "%s", names[i]);
	cr_expect_eq(r.overall, VCHECK_FAIL);
	/* No state name, no error: still says why. */
	s.obd_state[0] = '\0';
	s.obd_error[0] = '\0';
	expect(&s, BATTERY, VCHECK_FAIL, "OBD adapter not answering (down)");
}

Test(vcheck, coolant_edges)
{
	static const struct edge e[] = {
		{ -20, VCHECK_PASS }, { 105, VCHECK_PASS },
		{ 105.1, VCHECK_WARN }, { 115, VCHECK_WARN },
		{ 115.1, VCHECK_FAIL },
	};
	struct vcheck_snapshot	s;
	size_t			i;

	for (i = 0; i < NELEM(e); i++) {
		healthy(&s);
		s.rpm = 800;
		s.coolant_c = e[i].v;
		cr_expect_eq(status_of(&s, COOLANT), e[i].want, "%.1f C",
		    e[i].v);
	}
	healthy(&s);
	s.coolant_c = 120;
	expect(&s, COOLANT, VCHECK_FAIL, "overheating");
}

Test(vcheck, coolant_thermostat_once_warmed)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.rpm = 800;
	s.coolant_c = 59.9;
	s.run_time_s = 899;
	expect(&s, COOLANT, VCHECK_PASS, NULL);		/* still warming up */
	s.run_time_s = 900;
	expect(&s, COOLANT, VCHECK_WARN, "thermostat?");
	s.coolant_c = 60;
	expect(&s, COOLANT, VCHECK_PASS, NULL);
	s.coolant_c = 40;
	s.run_time_s = NAN;
	expect(&s, COOLANT, VCHECK_PASS, NULL);		/* run time unknown */
	s.run_time_s = 2000;
	s.rpm = 0;
	expect(&s, COOLANT, VCHECK_PASS, "engine off");	/* cooling down */
}

Test(vcheck, coolant_missing)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.coolant_c = NAN;
	expect(&s, COOLANT, VCHECK_PASS, "engine off: not read");
	s.obd = VCHECK_OBD_NO_ECU;
	expect(&s, COOLANT, VCHECK_PASS, "ignition off");
	s.obd = VCHECK_OBD_UP;
	s.rpm = 750;
	expect(&s, COOLANT, VCHECK_WARN,
	    "no coolant temperature reading in the last 60 s");
}

Test(vcheck, mil_and_codes)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;

	healthy(&s);
	s.mil_on = 1;
	s.ndtc = 2;
	util_strlcpy(s.dtc[0].code, "P0301", sizeof(s.dtc[0].code));
	s.dtc[0].mode = 0x03;
	util_strlcpy(s.dtc[1].code, "P0420", sizeof(s.dtc[1].code));
	s.dtc[1].mode = 0x07;
	expect(&s, MIL, VCHECK_FAIL, "MIL on; P0301 (stored), P0420 (pending)");
	r = run(&s);
	cr_expect_float_eq(r.item[MIL].value, 2, 1e-9);
	cr_expect_eq(r.item[MIL].ndtc, 2);
	cr_expect_eq(r.item[MIL].mil_on, 1);
	cr_expect_eq(r.overall, VCHECK_FAIL);

	s.mil_on = 0;
	expect(&s, MIL, VCHECK_WARN, "MIL off; P0301 (stored)");
	s.ndtc = 1;
	s.dtc[0].mode = 0x0a;
	expect(&s, MIL, VCHECK_WARN, "P0301 (permanent)");
	s.ndtc = 0;
	expect(&s, MIL, VCHECK_PASS, "MIL off; no trouble codes");
	/* MIL on with a clean scan: the lamp decides. */
	s.mil_on = 1;
	expect(&s, MIL, VCHECK_FAIL, "MIL on; no trouble codes");
}

Test(vcheck, mil_unknown_warns)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;

	healthy(&s);
	s.mil_on = -1;
	expect(&s, MIL, VCHECK_WARN, "no MIL reading in the last 60 s");
	s.mil_on = 0;
	s.dtcs_read = false;
	expect(&s, MIL, VCHECK_WARN, "no DTC scan yet");
	r = run(&s);
	cr_expect(isnan(r.item[MIL].value));
	s.obd = VCHECK_OBD_NO_ECU;
	s.mil_on = -1;
	expect(&s, MIL, VCHECK_WARN, "ignition off?");
	expect(&s, MIL, VCHECK_WARN, "switch the ignition on");
	/* An earlier scan's codes are still reported with the ECU asleep. */
	s.dtcs_read = true;
	s.ndtc = 1;
	util_strlcpy(s.dtc[0].code, "C0035", sizeof(s.dtc[0].code));
	s.dtc[0].mode = 0x03;
	expect(&s, MIL, VCHECK_WARN, "C0035 (stored)");
}

Test(vcheck, fuel_edges)
{
	static const struct edge e[] = {
		{ 0, VCHECK_FAIL }, { 4.99, VCHECK_FAIL }, { 5, VCHECK_WARN },
		{ 14.99, VCHECK_WARN }, { 15, VCHECK_PASS },
		{ 100, VCHECK_PASS },
	};
	struct vcheck_snapshot	s;
	size_t			i;

	for (i = 0; i < NELEM(e); i++) {
		healthy(&s);
		s.fuel_level_pct = e[i].v;
		cr_expect_eq(status_of(&s, FUEL), e[i].want, "%.2f %%",
		    e[i].v);
	}
	healthy(&s);
	s.fuel_level_pct = 10;
	expect(&s, FUEL, VCHECK_WARN, "below 15 %: refuel soon");
	s.fuel_level_pct = 3;
	expect(&s, FUEL, VCHECK_FAIL, "below 5 %: refuel now");
	s.fuel_level_pct = NAN;
	expect(&s, FUEL, VCHECK_WARN, "no fuel level reading in the last 60 s");
	s.obd = VCHECK_OBD_NO_ECU;
	expect(&s, FUEL, VCHECK_WARN, "ignition off?");
}

Test(vcheck, obd_window_in_notes)
{
	struct vcheck_snapshot	s;
	struct vcheck_limits	l;
	struct vcheck_result	r;

	healthy(&s);
	s.fuel_level_pct = NAN;
	vcheck_limits_default(&l);
	l.obd_window_ms = 90000;
	vcheck_run(&s, &l, &r);
	cr_expect(strstr(r.item[FUEL].note, "in the last 90 s") != NULL,
	    "%s", r.item[FUEL].note);
}

Test(vcheck, gnss_edges)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;

	healthy(&s);
	s.sats_used = 6;
	expect(&s, GNSS, VCHECK_PASS, "3D fix");
	s.sats_used = 5;
	expect(&s, GNSS, VCHECK_WARN, "fewer than 6 satellites used");
	s.sats_used = -1;
	expect(&s, GNSS, VCHECK_WARN, "satellite count unknown");
	r = run(&s);
	cr_expect(isnan(r.item[GNSS].value));
	s.sats_used = 12;
	s.fix = VCHECK_FIX_2D;
	expect(&s, GNSS, VCHECK_WARN, "2D fix only");
	s.fix = VCHECK_FIX_3D;
	s.hdop = 1.25;
	s.fix_age_ms = 3000;
	expect(&s, GNSS, VCHECK_PASS, "hdop 1.25; fix 3 s old");
	r = run(&s);
	cr_expect_float_eq(r.item[GNSS].age_s, 3, 1e-9);
}

Test(vcheck, gnss_no_fix_fails)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.fix = VCHECK_FIX_NONE;
	s.fix_age_ms = 300000;
	expect(&s, GNSS, VCHECK_FAIL, "no fix: the receiver has none; "
	    "last fix 5 min ago");
	s.fix = VCHECK_FIX_NODATA;
	expect(&s, GNSS, VCHECK_FAIL, "no reports from gpsd");
	s.fix = VCHECK_FIX_DOWN;
	s.fix_age_ms = -1;
	expect(&s, GNSS, VCHECK_FAIL, "gpsd not reachable; no fix since "
	    "start");
	cr_expect_eq(run(&s).overall, VCHECK_FAIL);
}

Test(vcheck, storage_free_edges)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.max_size_mb = 16;		/* the growth rule stays out of it */
	s.db_bytes = 1 * MIB;
	s.fs_free_bytes = 32 * MIB;
	expect(&s, STORAGE, VCHECK_WARN, "less than 128 MB free");
	s.fs_free_bytes = 32 * MIB - 1;
	expect(&s, STORAGE, VCHECK_FAIL, "less than 32 MB free");
	s.fs_free_bytes = 128 * MIB - 1;
	expect(&s, STORAGE, VCHECK_WARN, NULL);
	s.fs_free_bytes = 128 * MIB;
	expect(&s, STORAGE, VCHECK_PASS, "database 1.0 MB of 16 MB (6 %)");
	s.fs_known = false;
	expect(&s, STORAGE, VCHECK_WARN, "free space unknown");
}

Test(vcheck, storage_room_to_grow)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.max_size_mb = 1024;
	s.db_bytes = 100 * MIB;
	s.fs_free_bytes = 923 * MIB;	/* 924 MB would be needed */
	expect(&s, STORAGE, VCHECK_WARN, "cannot hold storage.max_size_mb");
	s.fs_free_bytes = 924 * MIB;
	expect(&s, STORAGE, VCHECK_PASS, NULL);
	/* No cap: free space alone. */
	s.max_size_mb = 0;
	s.fs_free_bytes = 200 * MIB;
	expect(&s, STORAGE, VCHECK_PASS, "database 100.0 MB");
}

Test(vcheck, storage_size_edges)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.max_size_mb = 100;
	s.db_bytes = 90 * MIB - 1;
	expect(&s, STORAGE, VCHECK_PASS, NULL);
	s.db_bytes = 90 * MIB;
	expect(&s, STORAGE, VCHECK_WARN, "the oldest records are deleted");
	s.db_bytes = 110 * MIB;
	expect(&s, STORAGE, VCHECK_WARN, NULL);
	s.db_bytes = 110 * MIB + 1024;
	expect(&s, STORAGE, VCHECK_FAIL, "retention does not keep up");
}

Test(vcheck, sync_ages)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;

	healthy(&s);
	s.platform = true;
	s.stream[0].known = s.stream[1].known = true;
	expect(&s, SYNC, VCHECK_PASS, "events: nothing pending; positions: "
	    "nothing pending");
	r = run(&s);
	cr_expect_float_eq(r.item[SYNC].value, 0, 1e-9);

	s.stream[1].pending = 120;
	s.stream[1].oldest_pending_utc_ms = s.now_utc_ms - HOUR_MS;
	expect(&s, SYNC, VCHECK_PASS, "positions: 120 pending, oldest 60 min");
	s.stream[1].oldest_pending_utc_ms = s.now_utc_ms - HOUR_MS - 1;
	expect(&s, SYNC, VCHECK_WARN, NULL);
	s.stream[0].pending = 3;
	s.stream[0].oldest_pending_utc_ms = s.now_utc_ms - 24 * HOUR_MS;
	expect(&s, SYNC, VCHECK_WARN, "events: 3 pending, oldest 24.0 h");
	r = run(&s);
	cr_expect_float_eq(r.item[SYNC].value, 86400, 1e-9);
	s.stream[0].oldest_pending_utc_ms = s.now_utc_ms - 24 * HOUR_MS - 1;
	expect(&s, SYNC, VCHECK_FAIL, NULL);
	/* A record stamped after "now" (GNSS time stepped): age 0. */
	s.stream[0].oldest_pending_utc_ms = s.now_utc_ms + 5000;
	s.stream[1].pending = 0;
	expect(&s, SYNC, VCHECK_PASS, "events: 3 pending, oldest 0 s");
}

Test(vcheck, sync_unknowns_and_quarantine)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.platform = true;
	s.stream[0].known = s.stream[1].known = true;
	s.stream[1].quarantined = 2;
	expect(&s, SYNC, VCHECK_WARN, "positions: 2 refused by the platform");
	s.stream[1].quarantined = 0;
	s.stream[0].pending = 4;
	s.stream[0].oldest_pending_utc_ms = 1;
	s.now_utc_ms = INT64_MIN;
	expect(&s, SYNC, VCHECK_PASS, "events: 4 pending, age unknown");
	s.stream[1].known = false;
	expect(&s, SYNC, VCHECK_WARN, "positions: state unknown");
}

Test(vcheck, clock_edges)
{
	static const struct edge e[] = {
		{ 0, VCHECK_PASS }, { 2, VCHECK_PASS }, { -2, VCHECK_PASS },
		{ 2.05, VCHECK_WARN }, { -2.05, VCHECK_WARN },
		{ 60, VCHECK_WARN }, { -60, VCHECK_WARN },
		{ 60.05, VCHECK_FAIL }, { -3600, VCHECK_FAIL },
	};
	struct vcheck_snapshot	s;
	size_t			i;

	for (i = 0; i < NELEM(e); i++) {
		healthy(&s);
		s.clock_offset_s = e[i].v;
		cr_expect_eq(status_of(&s, CLOCK), e[i].want, "%.2f s",
		    e[i].v);
	}
	healthy(&s);
	s.clock_offset_s = -5;
	expect(&s, CLOCK, VCHECK_WARN, "system clock 5.0 s behind GNSS time");
	s.clock_offset_s = 1.5;
	s.clock_trusted = false;
	s.clock_fixes = 12;
	s.clock_synced = false;
	expect(&s, CLOCK, VCHECK_PASS, "1.5 s ahead of GNSS time; GNSS time "
	    "not trusted yet (12 of 60 consistent fixes); system clock not "
	    "synchronised");
}

Test(vcheck, clock_without_gnss_time_fails)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;

	healthy(&s);
	s.gnss_time = false;
	s.clock_offset_s = NAN;
	expect(&s, CLOCK, VCHECK_FAIL, "no GNSS time since start");
	r = run(&s);
	cr_expect(isnan(r.item[CLOCK].value));
}

Test(vcheck, overall_is_the_worst)
{
	struct vcheck_snapshot	s;

	healthy(&s);
	s.fuel_level_pct = 10;
	cr_expect_eq(run(&s).overall, VCHECK_WARN);
	s.clock_offset_s = 100;
	cr_expect_eq(run(&s).overall, VCHECK_FAIL);
	s.fuel_level_pct = 50;
	cr_expect_eq(run(&s).overall, VCHECK_FAIL);
	s.clock_offset_s = 0;
	cr_expect_eq(run(&s).overall, VCHECK_PASS);
}

Test(vcheck, note_is_bounded)
{
	struct vcheck_snapshot	s;
	struct vcheck_result	r;
	char			code[32];
	size_t			i;

	healthy(&s);
	s.mil_on = 1;
	s.ndtc = VCHECK_MAX_DTCS;
	for (i = 0; i < s.ndtc; i++) {
		snprintf(code, sizeof(code), "P%04zu", i + 100);
		util_strlcpy(s.dtc[i].code, code, sizeof(s.dtc[i].code));
		s.dtc[i].mode = 0x07;
	}
	r = run(&s);
	cr_expect_eq(r.item[MIL].status, VCHECK_FAIL);
	cr_expect_lt(strlen(r.item[MIL].note), sizeof(r.item[MIL].note));
	cr_expect_eq(r.item[MIL].ndtc, VCHECK_MAX_DTCS);
	cr_expect(strncmp(r.item[MIL].note, "MIL on; P0100 (pending)", 23)
	    == 0, "%s", r.item[MIL].note);
}

Test(vcheck, json_shape)
{
	struct vcheck_snapshot	 s;
	struct vcheck_result	 r;
	json_t			*j, *items, *it, *lim;
	size_t			 i;

	healthy(&s);
	s.mil_on = 1;
	s.ndtc = 1;
	util_strlcpy(s.dtc[0].code, "P0301", sizeof(s.dtc[0].code));
	s.dtc[0].mode = 0x03;
	s.coolant_c = NAN;
	r = run(&s);
	j = vcheck_result_json(&r);
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "result")),
	    "fail");
	items = json_object_get(j, "items");
	cr_assert(json_is_array(items));
	cr_assert_eq(json_array_size(items), VCHECK_ITEMS);
	json_array_foreach(items, i, it) {
		cr_expect_str_eq(json_string_value(json_object_get(it, "name")),
		    names[i]);
		cr_expect(json_is_string(json_object_get(it, "status")));
		cr_expect(json_is_string(json_object_get(it, "unit")));
		cr_expect(json_is_string(json_object_get(it, "note")));
		cr_expect(json_is_object(json_object_get(it, "limits")));
		cr_expect(json_object_get(it, "value") != NULL);
		cr_expect(json_object_get(it, "age_s") != NULL);
	}
	it = json_array_get(items, BATTERY);
	cr_expect_float_eq(json_number_value(json_object_get(it, "value")),
	    12.6, 1e-9);
	lim = json_object_get(it, "limits");
	cr_expect_float_eq(json_number_value(json_object_get(lim,
	    "warn_below")), 12.2, 1e-9);
	it = json_array_get(items, COOLANT);
	cr_expect(json_is_null(json_object_get(it, "value")));
	cr_expect_str_eq(json_string_value(json_object_get(it, "unit")),
	    "\u00b0C");
	it = json_array_get(items, MIL);
	cr_expect_str_eq(json_string_value(json_object_get(it, "status")),
	    "fail");
	cr_expect(json_is_true(json_object_get(it, "mil")));
	cr_expect_eq(json_array_size(json_object_get(it, "codes")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(it, "codes"), 0), "code")), "P0301");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(it, "codes"), 0), "kind")), "stored");
	/* Only mil_dtc carries codes. */
	cr_expect_null(json_object_get(json_array_get(items, FUEL), "codes"));
	json_decref(j);

	s.mil_on = -1;
	r = run(&s);
	j = vcheck_result_json(&r);
	cr_expect(json_is_null(json_object_get(json_array_get(
	    json_object_get(j, "items"), MIL), "mil")));
	json_decref(j);
}

static char *
text_of(const json_t *obj, int *rc)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	*rc = vcheck_print_text(fp, obj);
	fclose(fp);
	return buf;
}

Test(vcheck, text_table)
{
	struct vcheck_snapshot	 s;
	struct vcheck_result	 r;
	json_t			*j;
	char			*t;
	int			 rc;

	healthy(&s);
	s.battery_v = 12.05;
	s.coolant_c = 21;
	s.fuel_level_pct = 42.5;
	r = run(&s);
	j = vcheck_result_json(&r);
	json_object_set_new(j, "event_id", json_integer(17));
	t = text_of(j, &rc);
	cr_expect_eq(rc, 0);
	cr_expect(strncmp(t, "ITEM     STATUS READING       NOTE\n", 35) == 0,
	    "%s", t);
	cr_expect(strstr(t, "\nbattery  warn   12.05 V       engine off; "
	    "below 12.2 V: battery low\n") != NULL, "%s", t);
	/* °C is one column: the notes stay aligned. */
	cr_expect(strstr(t, "\ncoolant  pass   21 \u00b0C         engine off\n")
	    != NULL, "%s", t);
	cr_expect(strstr(t, "\nfuel     pass   42.5 %        -\n") != NULL,
	    "%s", t);
	cr_expect(strstr(t, "\nsync     pass   -             no platform "
	    "configured\n") != NULL, "%s", t);
	cr_expect(strstr(t, "\nresult: warn (7 pass, 1 warn, 0 fail); stored "
	    "as event 17\n") != NULL, "%s", t);
	free(t);
	json_decref(j);

	j = json_pack("{s:s}", "result", "pass");
	t = text_of(j, &rc);
	cr_expect_eq(rc, -1);
	free(t);
	json_decref(j);
}
