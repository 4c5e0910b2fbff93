/* SPDX-License-Identifier: MIT */
/*
 * test_tripjson.c - trips as fleetgwctl prints them: JSON members, nulls
 * for open trips and unknown values, rounding, zones, the streamed array,
 * the text table and its total line.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store.h"
#include "trip.h"
#include "tripjson.h"
#include "util.h"

/* 2026-03-02T08:31:05Z, 16:31:05 in Shanghai */
#define T0_MS	1772440265000LL

static struct store_trip
closed_trip(void)
{
	struct store_trip	 st;
	struct trip_summary	*t = &st.trip;

	memset(&st, 0, sizeof(st));
	st.seq = 1234;
	st.open = false;
	t->id = 7;
	t->start_utc_ms = T0_MS;
	t->end_utc_ms = T0_MS + 2499000;	/* 41:39 later */
	t->distance_m = 23456.78912;
	t->duration_s = 2499.0;
	t->driving_s = 2187.0004;
	t->idle_s = 312.25;
	t->max_speed_kmh = 86.34999;
	t->avg_speed_kmh = 23456.78912 / 2187.0004 * 3.6;	/* 38.61... */
	t->fuel_used_l = 2.3456;
	t->start_lat_deg = 30.57230001234;
	t->start_lon_deg = 104.06650049;
	t->end_lat_deg = 30.65;
	t->end_lon_deg = 104.0;
	t->odometer_start_km = 123433.3;
	t->odometer_end_km = 123456.74;
	t->ended_by = TRIP_END_IGNITION_OFF;
	t->gnss_gap = false;
	t->towed = true;
	return st;
}

static struct store_trip
open_trip(void)
{
	struct store_trip	 st = closed_trip();
	struct trip_summary	*t = &st.trip;

	st.seq = 0;
	st.open = true;
	t->id = 8;
	t->start_utc_ms = T0_MS + 3600000;
	t->end_utc_ms = T0_MS + 4200000;
	t->distance_m = 5000.0;
	t->duration_s = 600.0;
	t->driving_s = 540.0;
	t->idle_s = 60.0;
	t->max_speed_kmh = 50.0;
	t->avg_speed_kmh = 33.3333333;
	t->fuel_used_l = NAN;
	t->odometer_start_km = NAN;
	t->odometer_end_km = NAN;
	t->end_lat_deg = NAN;
	t->end_lon_deg = NAN;
	t->ended_by = TRIP_END_NONE;
	t->gnss_gap = true;
	t->towed = false;
	return st;
}

static char *
dump(const json_t *j)
{
	char	*s = json_dumps(j, TRIPJSON_DUMP_FLAGS);

	cr_assert_not_null(s);
	return s;
}

Test(tripjson, closed_trip_members_in_order_and_rounded)
{
	struct store_trip	 t = closed_trip();
	json_t			*j;
	char			*s;

	j = tripjson_trip(&t, "Asia/Shanghai");
	cr_assert_not_null(j);
	s = dump(j);
	cr_assert_str_eq(s,
	    "{\"id\":7,\"seq\":1234,"
	    "\"start\":\"2026-03-02T16:31:05+08:00\","
	    "\"end\":\"2026-03-02T17:12:44+08:00\","
	    "\"distance_m\":23456.8,\"duration_s\":2499.0,"
	    "\"driving_s\":2187.0,\"idle_s\":312.25,"
	    "\"max_speed_kmh\":86.3,\"avg_speed_kmh\":38.6,"
	    "\"fuel_used_l\":2.346,"
	    "\"start_lat\":30.5723,\"start_lon\":104.0665005,"
	    "\"end_lat\":30.65,\"end_lon\":104.0,"
	    "\"odometer_start_km\":123433.3,\"odometer_end_km\":123456.7,"
	    "\"ended_by\":\"ignition_off\",\"gnss_gap\":false,\"towed\":true}");
	free(s);
	json_decref(j);
}

Test(tripjson, open_trip_has_null_seq_end_and_ended_by)
{
	struct store_trip	 t = open_trip();
	json_t			*j;
	const char		*nulls[] = {
		"seq", "end", "ended_by", "fuel_used_l", "odometer_start_km",
		"odometer_end_km", "end_lat", "end_lon"
	};
	size_t			 i;

	j = tripjson_trip(&t, "Asia/Shanghai");
	cr_assert_not_null(j);
	for (i = 0; i < NELEM(nulls); i++)
		cr_expect(json_is_null(json_object_get(j, nulls[i])), "%s",
		    nulls[i]);
	cr_expect_str_eq(json_string_value(json_object_get(j, "start")),
	    "2026-03-02T17:31:05+08:00");
	cr_expect_eq(json_integer_value(json_object_get(j, "id")), 8);
	cr_expect_float_eq(json_real_value(json_object_get(j,
	    "avg_speed_kmh")), 33.3, 1e-12);
	cr_expect(json_is_true(json_object_get(j, "gnss_gap")));
	cr_expect(json_is_false(json_object_get(j, "towed")));
	cr_expect_eq(json_object_size(j), 20);
	json_decref(j);
}

Test(tripjson, every_unknown_number_is_null)
{
	struct store_trip	 t = closed_trip();
	json_t			*j;
	const char		*keys[] = {
		"distance_m", "duration_s", "driving_s", "idle_s",
		"max_speed_kmh", "avg_speed_kmh", "start_lat", "start_lon"
	};
	size_t			 i;

	t.trip.distance_m = NAN;
	t.trip.duration_s = NAN;
	t.trip.driving_s = INFINITY;
	t.trip.idle_s = NAN;
	t.trip.max_speed_kmh = NAN;
	t.trip.avg_speed_kmh = NAN;
	t.trip.start_lat_deg = NAN;
	t.trip.start_lon_deg = NAN;
	j = tripjson_trip(&t, "UTC");
	cr_assert_not_null(j);
	for (i = 0; i < NELEM(keys); i++)
		cr_expect(json_is_null(json_object_get(j, keys[i])), "%s",
		    keys[i]);
	json_decref(j);
}

Test(tripjson, ended_by_names)
{
	static const struct {
		enum trip_end	 why;
		const char	*name;
	} cases[] = {
		{ TRIP_END_IGNITION_OFF, "ignition_off" },
		{ TRIP_END_STATIONARY, "stationary" },
		{ TRIP_END_POWER_LOSS, "power_loss" },
		{ TRIP_END_SHUTDOWN, "shutdown" },
	};
	struct store_trip	 t = closed_trip();
	json_t			*j;
	size_t			 i;

	for (i = 0; i < NELEM(cases); i++) {
		t.trip.ended_by = cases[i].why;
		j = tripjson_trip(&t, "UTC");
		cr_expect_str_eq(json_string_value(json_object_get(j,
		    "ended_by")), cases[i].name);
		json_decref(j);
	}
	cr_expect_null(store_trip_end_name(TRIP_END_NONE));
}

Test(tripjson, times_in_zone_with_milliseconds)
{
	struct store_trip	 t = closed_trip();
	json_t			*j;

	t.trip.start_utc_ms = T0_MS + 250;
	j = tripjson_trip(&t, "Europe/Berlin");
	cr_expect_str_eq(json_string_value(json_object_get(j, "start")),
	    "2026-03-02T09:31:05.250+01:00");
	cr_expect_str_eq(json_string_value(json_object_get(j, "end")),
	    "2026-03-02T10:12:44+01:00");
	json_decref(j);
	cr_expect_null(tripjson_trip(&t, "Nowhere/Atlantis"));
}

static char *
run_list(bool json, size_t n, const struct store_trip *rows, const char *tz,
    int *rc_end)
{
	struct tripjson_list	 l;
	char			*buf = NULL;
	size_t			 len = 0, i;
	FILE			*fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	tripjson_list_begin(&l, fp, tz, json);
	for (i = 0; i < n; i++)
		cr_assert_eq(tripjson_list_add(&l, &rows[i]), 0);
	*rc_end = tripjson_list_end(&l);
	fclose(fp);
	return buf;
}

Test(tripjson, json_list_is_one_array)
{
	struct store_trip	 rows[3];
	json_error_t		 jerr;
	json_t			*arr;
	char			*out;
	size_t			 n, i;
	int			 rc;

	rows[0] = closed_trip();
	rows[1] = closed_trip();
	rows[2] = open_trip();
	rows[1].trip.id = 9;
	for (n = 0; n <= 3; n++) {
		out = run_list(true, n, rows, "Asia/Shanghai", &rc);
		cr_assert_eq(rc, 0);
		arr = json_loads(out, 0, &jerr);
		cr_assert_not_null(arr, "n=%zu: %s: %s", n, jerr.text, out);
		cr_assert(json_is_array(arr));
		cr_assert_eq(json_array_size(arr), n);
		for (i = 0; i < n; i++)
			cr_expect_eq(json_integer_value(json_object_get(
			    json_array_get(arr, i), "id")),
			    (json_int_t)rows[i].trip.id);
		if (n == 0)
			cr_expect_str_eq(out, "[]\n");
		else
			cr_expect_eq(out[strlen(out) - 2], ']');
		json_decref(arr);
		free(out);
	}
}

Test(tripjson, text_table_and_total)
{
	struct store_trip	 rows[2];
	char			*out, *l2, *l3, *l4;
	int			 rc;

	rows[0] = closed_trip();
	rows[1] = open_trip();
	out = run_list(false, 2, rows, "Asia/Shanghai", &rc);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(out,
	    "    ID START                     END                       "
	    "DURATION       KM     IDLE MAX_KMH AVG_KMH  FUEL_L    ODO_KM "
	    "ENDED_BY\n"
	    "     7 2026-03-02T16:31:05+08:00 2026-03-02T17:12:44+08:00 "
	    " 0:41:39    23.46  0:05:12    86.3    38.6    2.35  123456.7 "
	    "ignition_off\n"
	    "     8 2026-03-02T17:31:05+08:00 ongoing                   "
	    " 0:10:00     5.00  0:01:00    50.0    33.3       -         - "
	    "-\n"
	    "total: 2 trips                                             "
	    " 0:51:39    28.46  0:06:12    86.3    37.6   2.35+\n");
	/* The DURATION column ends at the same offset on every line. */
	l2 = strchr(out, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	l4 = strchr(l3, '\n') + 1;
	cr_expect_eq(strstr(l2, "0:41:39") - l2, strstr(l4, "0:51:39") - l4);
	cr_expect_eq(strstr(l3, "0:10:00") - l3, strstr(l4, "0:51:39") - l4);
	free(out);
}

Test(tripjson, text_total_fuel_and_edge_cases)
{
	struct store_trip	 rows[2];
	char			*out;
	int			 rc;

	/* All fuel known: a plain sum.  Milliseconds are cut in the table. */
	rows[0] = closed_trip();
	rows[1] = closed_trip();
	rows[1].trip.start_utc_ms += 999;
	rows[1].trip.duration_s = 36000.0 * 27 + 59.6;	/* over a day */
	out = run_list(false, 2, rows, "Asia/Shanghai", &rc);
	cr_assert_eq(rc, 0);
	cr_expect(strstr(out, "\n     7 2026-03-02T16:31:05+08:00 ") != NULL,
	    "%s", out);
	cr_expect(strstr(out, " 270:01:00 ") != NULL, "%s", out);
	cr_expect(strstr(out, "    4.69\n") != NULL, "%s", out);
	free(out);

	/* No fuel figure at all; no driving time: no average. */
	rows[0] = open_trip();
	rows[0].trip.driving_s = 0;
	out = run_list(false, 1, rows, "UTC", &rc);
	cr_assert_eq(rc, 0);
	cr_expect(strstr(out, "total: 1 trip ") != NULL, "%s", out);
	cr_expect(strstr(out, "    50.0       -       -\n") != NULL, "%s",
	    out);
	free(out);

	out = run_list(false, 0, NULL, "UTC", &rc);
	cr_assert_eq(rc, 0);
	cr_expect_str_eq(out, "no trips\n");
	free(out);
}

Test(tripjson, bad_zone_row_fails)
{
	struct tripjson_list	 l;
	struct store_trip	 row = closed_trip();
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;

	fp = open_memstream(&buf, &len);
	tripjson_list_begin(&l, fp, "Nowhere/Atlantis", true);
	cr_expect_eq(tripjson_list_add(&l, &row), -1);
	cr_expect_eq(l.error, 1);
	tripjson_list_begin(&l, fp, "Nowhere/Atlantis", false);
	cr_expect_eq(tripjson_list_add(&l, &row), -1);
	cr_expect_eq(l.error, 1);
	fclose(fp);
	free(buf);
}
