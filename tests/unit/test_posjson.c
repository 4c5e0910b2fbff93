/* SPDX-License-Identifier: MIT */
/*
 * test_posjson.c - positions as fleetgwctl prints them, with and without
 * OBD values.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "posjson.h"
#include "util.h"

/* 2026-03-02T13:14:05Z */
#define T0_MS	1772457245000LL

static struct store_position
sample(void)
{
	struct store_position	p;

	memset(&p, 0, sizeof(p));
	p.seq = 42;
	p.fix.t_utc_ms = T0_MS;
	p.fix.lat_deg = 30.5723;
	p.fix.lon_deg = 104.0665;
	p.fix.alt_m = 512.3;
	p.fix.speed_mps = 13.89;
	p.fix.heading_deg = 271.5;
	p.fix.hdop = 0.9;
	p.fix.eph_m = NAN;
	p.fix.mode = 3;
	p.fix.sats_used = 14;
	p.fix.sats_visible = 27;
	p.fix.sys[GNSS_SYS_GPS].visible = 9;
	p.fix.sys[GNSS_SYS_GPS].used = 5;
	p.fix.sys[GNSS_SYS_BEIDOU].visible = 12;
	p.fix.sys[GNSS_SYS_BEIDOU].used = 8;
	p.fix.sys[GNSS_SYS_GLONASS].visible = 4;
	p.fix.sys[GNSS_SYS_GLONASS].used = 1;
	p.fix.sys[GNSS_SYS_GALILEO].visible = 2;
	p.fix.sys[GNSS_SYS_GALILEO].used = 0;
	record_obd_clear(&p.obd);
	return p;
}

/* Values as the decoders produce them (percentages in 100/255 steps). */
static struct obd_sample
obd_sample(void)
{
	struct obd_sample	o;

	record_obd_clear(&o);
	o.rpm = 1725.25;
	o.speed_kmh = 50;
	o.coolant_c = 88;
	o.load_pct = 100.0 * 87 / 255;		/* 34.117647... */
	o.fuel_level_pct = 100.0 * 160 / 255;	/* 62.745098... */
	o.fuel_rate_lph = 0.1 * 17.35 / 0.3;	/* binary noise */
	o.fuel_rate_estimated = 1;
	o.battery_v = 14.123;
	o.odometer_km = 123456.7;
	o.mil_on = 0;
	return o;
}

static struct store_position
unknowns(void)
{
	struct store_position	p = sample();

	p.fix.alt_m = NAN;
	p.fix.speed_mps = NAN;
	p.fix.heading_deg = NAN;
	p.fix.hdop = INFINITY;
	p.fix.sats_used = -1;
	p.fix.mode = 2;
	return p;
}

static char *
dump(const json_t *j)
{
	char	*s = json_dumps(j, POSJSON_DUMP_FLAGS);

	cr_assert_not_null(s);
	return s;
}

Test(posjson, fields_exactly_in_order)
{
	struct store_position	 p = sample();
	json_t			*j;
	char			*s;

	j = posjson_position(&p, "Asia/Shanghai");
	cr_assert_not_null(j);
	s = dump(j);
	cr_assert_str_eq(s,
	    "{\"seq\":42,\"time\":\"2026-03-02T21:14:05+08:00\","
	    "\"lat\":30.5723,\"lon\":104.0665,\"alt_m\":512.3,"
	    "\"speed_kmh\":50.004,\"heading_deg\":271.5,\"hdop\":0.9,"
	    "\"sats_used\":14,\"constellations\":{"
	    "\"gps\":{\"visible\":9,\"used\":5},"
	    "\"beidou\":{\"visible\":12,\"used\":8},"
	    "\"glonass\":{\"visible\":4,\"used\":1},"
	    "\"galileo\":{\"visible\":2,\"used\":0}}}");
	free(s);
	json_decref(j);
}

Test(posjson, unknown_is_null)
{
	struct store_position	 p = unknowns();
	json_t			*j;
	const char		*keys[] = {
		"alt_m", "speed_kmh", "heading_deg", "hdop", "sats_used"
	};
	size_t			 i;

	j = posjson_position(&p, "Asia/Shanghai");
	cr_assert_not_null(j);
	for (i = 0; i < NELEM(keys); i++)
		cr_expect(json_is_null(json_object_get(j, keys[i])), "%s",
		    keys[i]);
	cr_expect(json_is_real(json_object_get(j, "lat")));
	cr_expect_eq(json_object_size(j), 10);
	cr_expect_null(json_object_get(j, "obd"), "no OBD values: no member");
	json_decref(j);
}

Test(posjson, obd_object_known_fields_only)
{
	struct store_position	 p = sample();
	json_t			*j;
	char			*s;

	p.obd = obd_sample();
	j = posjson_position(&p, "Asia/Shanghai");
	cr_assert_not_null(j);
	s = dump(json_object_get(j, "obd"));
	cr_assert_str_eq(s,
	    "{\"rpm\":1725.25,\"speed_kmh\":50.0,\"coolant_c\":88.0,"
	    "\"load_pct\":34.1,\"fuel_level_pct\":62.7,"
	    "\"fuel_rate_lph\":5.783,\"battery_v\":14.123,"
	    "\"odometer_km\":123456.7,\"fuel_rate_estimated\":true,"
	    "\"mil_on\":false}");
	free(s);
	/* The object comes last, after constellations. */
	s = dump(j);
	cr_expect(strstr(s, "\"galileo\":{\"visible\":2,\"used\":0}},"
	    "\"obd\":{") != NULL, "%s", s);
	free(s);
	json_decref(j);
}

Test(posjson, obd_single_values)
{
	struct obd_sample	 o;
	json_t			*j;
	char			*s;

	record_obd_clear(&o);
	cr_expect_null(posjson_obd(&o));
	/* Estimated says nothing without a rate. */
	o.fuel_rate_estimated = 1;
	cr_expect_null(posjson_obd(&o));
	o.mil_on = 1;
	j = posjson_obd(&o);
	s = dump(j);
	cr_expect_str_eq(s, "{\"mil_on\":true}");
	free(s);
	json_decref(j);
	record_obd_clear(&o);
	o.ambient_c = -7;
	o.run_time_s = 600;
	o.intake_c = INFINITY;
	j = posjson_obd(&o);
	s = dump(j);
	cr_expect_str_eq(s, "{\"ambient_c\":-7.0,\"run_time_s\":600.0}");
	free(s);
	json_decref(j);
}

Test(posjson, numbers_full_precision)
{
	struct store_position	 p = sample();
	json_t			*j, *back;
	char			*s;

	p.fix.lat_deg = 30.57230012;
	p.fix.lon_deg = -104.066512345;
	p.fix.speed_mps = 0.0;
	j = posjson_position(&p, "UTC");
	s = dump(j);
	back = json_loads(s, 0, NULL);
	cr_assert_not_null(back);
	cr_expect_float_eq(json_real_value(json_object_get(back, "lat")),
	    30.57230012, 1e-12);
	cr_expect_float_eq(json_real_value(json_object_get(back, "lon")),
	    -104.066512345, 1e-12);
	cr_expect(strstr(s, "\"speed_kmh\":0.0") != NULL, "%s", s);
	free(s);
	json_decref(back);
	json_decref(j);
}

Test(posjson, speed_conversion)
{
	struct store_position	 p = sample();
	json_t			*j;

	p.fix.speed_mps = 10.0;
	j = posjson_position(&p, "UTC");
	cr_expect_float_eq(json_real_value(json_object_get(j, "speed_kmh")),
	    36.0, 1e-9);
	json_decref(j);
}

Test(posjson, time_in_zone)
{
	struct store_position	 p = sample();
	json_t			*j;

	p.fix.t_utc_ms = T0_MS + 250;
	j = posjson_position(&p, "Europe/Berlin");
	cr_expect_str_eq(json_string_value(json_object_get(j, "time")),
	    "2026-03-02T14:14:05.250+01:00");
	json_decref(j);
	cr_expect_null(posjson_position(&p, "Nowhere/Atlantis"));
}

static char *
run_list(bool json, size_t n, const struct store_position *rows,
    const char *tz, int *rc_end)
{
	struct posjson_list	 l;
	char			*buf = NULL;
	size_t			 len = 0, i;
	FILE			*fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	posjson_list_begin(&l, fp, tz, json);
	for (i = 0; i < n; i++)
		cr_assert_eq(posjson_list_add(&l, &rows[i]), 0);
	*rc_end = posjson_list_end(&l);
	fclose(fp);
	return buf;
}

Test(posjson, json_list_is_one_array)
{
	struct store_position	 rows[3];
	json_error_t		 jerr;
	json_t			*arr;
	char			*out;
	size_t			 n, i;
	int			 rc;

	rows[0] = sample();
	rows[1] = unknowns();
	rows[2] = sample();
	for (i = 0; i < 3; i++)
		rows[i].seq = 100 + i;
	for (n = 0; n <= 3; n++) {
		out = run_list(true, n, rows, "Asia/Shanghai", &rc);
		cr_assert_eq(rc, 0);
		arr = json_loads(out, 0, &jerr);
		cr_assert_not_null(arr, "n=%zu: %s: %s", n, jerr.text, out);
		cr_assert(json_is_array(arr));
		cr_assert_eq(json_array_size(arr), n);
		for (i = 0; i < n; i++)
			cr_expect_eq(json_integer_value(json_object_get(
			    json_array_get(arr, i), "seq")), 100 + (int)i);
		if (n == 0)
			cr_expect_str_eq(out, "[]\n");
		json_decref(arr);
		free(out);
	}
}

Test(posjson, text_table)
{
	struct store_position	 rows[2];
	char			*out, *line2, *line3;
	int			 rc;

	rows[0] = sample();
	rows[0].obd = obd_sample();
	rows[1] = unknowns();
	rows[1].seq = 1234567;
	out = run_list(false, 2, rows, "Asia/Shanghai", &rc);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(out,
	    "       SEQ TIME                                 LAT         LON"
	    "   ALT_M   KM/H   HDG  HDOP SATS   RPM FUEL% BDS(v/u)\n"
	    "        42 2026-03-02T21:14:05+08:00      30.572300  104.066500"
	    "   512.3   50.0 271.5   0.9   14  1725  62.7 12/8\n"
	    "   1234567 2026-03-02T21:14:05+08:00      30.572300  104.066500"
	    "       -      -     -     -    -     -     - 12/8\n"
	    "2 positions\n");
	/* Columns line up: every field ends at the same offset. */
	line2 = strchr(out, '\n') + 1;
	line3 = strchr(line2, '\n') + 1;
	cr_expect_eq(strchr(line2, '/') - line2, strchr(line3, '/') - line3);
	free(out);
}

Test(posjson, text_empty_and_one)
{
	struct store_position	 row = sample();
	char			*out;
	int			 rc;

	out = run_list(false, 0, NULL, "Asia/Shanghai", &rc);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(out, "no positions\n");
	free(out);
	out = run_list(false, 1, &row, "Asia/Shanghai", &rc);
	cr_assert(strstr(out, "\n1 position\n") != NULL, "%s", out);
	free(out);
}

Test(posjson, bad_zone_row_fails)
{
	struct posjson_list	 l;
	struct store_position	 row = sample();
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;

	fp = open_memstream(&buf, &len);
	posjson_list_begin(&l, fp, "Nowhere/Atlantis", true);
	cr_expect_eq(posjson_list_add(&l, &row), -1);
	cr_expect_eq(l.error, 1);
	posjson_list_begin(&l, fp, "Nowhere/Atlantis", false);
	cr_expect_eq(posjson_list_add(&l, &row), -1);
	cr_expect_eq(l.error, 1);
	fclose(fp);
	free(buf);
}
