/* SPDX-License-Identifier: MIT */
/*
 * test_eventjson.c - events as fleetgwctl prints them: JSON members in
 * order (end_seq after seq), nulls for open events and unknown values, details parsed back,
 * the streamed array, and the text view by day with its count line.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eventjson.h"
#include "rules.h"
#include "store.h"
#include "util.h"

#define TZ		"Asia/Shanghai"
#define T0900_MS	1790902800000LL	/* 2026-10-02T09:00+08:00, a Friday */
#define S_MS		1000LL

TestSuite(eventjson, .timeout = 30);

/* 21:14:05-21:40:10, after hours, in trip 7. */
static struct store_event
ev_after_hours(void)
{
	struct store_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = 1;
	ev.seq = 10;
	ev.end_seq = 11;
	ev.type = RULES_AFTER_HOURS_USE;
	ev.severity = RULES_VIOLATION;
	ev.start_utc_ms = T0900_MS + 44045 * S_MS;
	ev.end_utc_ms = ev.start_utc_ms + 1565 * S_MS;
	ev.trip_id = 7;
	ev.lat_deg = 30.57230001234;
	ev.lon_deg = 104.06650049;
	ev.details = "{\"covered_s\":0,\"min_s\":120}";
	return ev;
}

/* 23:50:00 to 00:20:30 the next day, in a named forbidden fence. */
static struct store_event
ev_forbidden(void)
{
	struct store_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = 2;
	ev.seq = 12;
	ev.end_seq = 15;
	ev.type = RULES_FORBIDDEN_PLACE;
	ev.severity = RULES_VIOLATION;
	ev.start_utc_ms = T0900_MS + 53400 * S_MS;
	ev.end_utc_ms = ev.start_utc_ms + 1830 * S_MS;
	ev.trip_id = 8;
	ev.lat_deg = 30.65;
	ev.lon_deg = 104.0;
	util_strlcpy(ev.fence_id, "ktv-1", sizeof(ev.fence_id));
	ev.details = "{\"category\":\"entertainment\",\"dwell_s\":300,"
	    "\"fence_name\":\"金色年华KTV\"}";
	return ev;
}

/* The next day 22:00, still open, nowhere known, long details. */
static struct store_event
ev_overnight(void)
{
	struct store_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.id = 3;
	ev.seq = 20;
	ev.type = RULES_OVERNIGHT_PARKING;
	ev.severity = RULES_WARNING;
	ev.start_utc_ms = T0900_MS + 133200 * S_MS;
	ev.end_utc_ms = 0;
	ev.lat_deg = NAN;
	ev.lon_deg = NAN;
	ev.details = "{\"reason\":\"outside every parking fence and more "
	    "text here to cut\",\"check_time\":\"22:00\"}";
	return ev;
}

static char *
dump(const json_t *j)
{
	char	*s = json_dumps(j, EVENTJSON_DUMP_FLAGS);

	cr_assert_not_null(s);
	return s;
}

Test(eventjson, closed_event_members_in_order)
{
	struct store_event	 ev = ev_after_hours();
	json_t			*j;
	char			*s;

	j = eventjson_event(&ev, TZ);
	cr_assert_not_null(j);
	s = dump(j);
	cr_assert_str_eq(s,
	    "{\"id\":1,\"seq\":10,\"end_seq\":11,"
	    "\"type\":\"after_hours_use\","
	    "\"severity\":\"violation\","
	    "\"start\":\"2026-10-02T21:14:05+08:00\","
	    "\"end\":\"2026-10-02T21:40:10+08:00\","
	    "\"trip_id\":7,\"lat\":30.5723,\"lon\":104.0665005,"
	    "\"fence_id\":null,"
	    "\"details\":{\"covered_s\":0,\"min_s\":120}}");
	free(s);
	json_decref(j);
}

Test(eventjson, open_event_nulls)
{
	struct store_event	 ev = ev_overnight();
	json_t			*j;
	const char		*nulls[] = {
		"end_seq", "end", "trip_id", "lat", "lon", "fence_id"
	};
	size_t			 i;

	j = eventjson_event(&ev, TZ);
	cr_assert_not_null(j);
	for (i = 0; i < NELEM(nulls); i++)
		cr_expect(json_is_null(json_object_get(j, nulls[i])), "%s",
		    nulls[i]);
	cr_expect_str_eq(json_string_value(json_object_get(j, "start")),
	    "2026-10-03T22:00:00+08:00");
	cr_expect_str_eq(json_string_value(json_object_get(j, "severity")),
	    "warning");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "details"), "check_time")), "22:00");
	cr_expect_eq(json_integer_value(json_object_get(j, "seq")), 20);
	cr_expect_eq(json_object_size(j), 12);
	json_decref(j);
}

/* An instant: one seq, end_seq equal to it. */
Test(eventjson, instant_end_seq_is_seq)
{
	struct store_event	 ev = ev_after_hours();
	json_t			*j;

	ev.end_seq = ev.seq;
	ev.end_utc_ms = ev.start_utc_ms;
	j = eventjson_event(&ev, TZ);
	cr_assert_not_null(j);
	cr_expect_eq(json_integer_value(json_object_get(j, "seq")), 10);
	cr_expect_eq(json_integer_value(json_object_get(j, "end_seq")), 10);
	json_decref(j);
}

Test(eventjson, fence_and_zone)
{
	struct store_event	 ev = ev_forbidden();
	json_t			*j;

	j = eventjson_event(&ev, "Europe/Berlin");
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "fence_id")),
	    "ktv-1");
	/* 23:50 in Shanghai is 17:50 summer time in Berlin. */
	cr_expect_str_eq(json_string_value(json_object_get(j, "start")),
	    "2026-10-02T17:50:00+02:00");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "details"), "fence_name")), "金色年华KTV");
	json_decref(j);
	cr_expect_null(eventjson_event(&ev, "No/Such_Zone"));
}

Test(eventjson, details_unparsable_are_empty_object)
{
	static const char *const bad[] = {
		NULL, "", "not json", "[1,2]", "42", "{\"a\":1,\"a\":2}",
		"{\"a\":"
	};
	struct store_event	 ev = ev_after_hours();
	json_t			*j, *d;
	size_t			 i;

	for (i = 0; i < NELEM(bad); i++) {
		ev.details = bad[i];
		j = eventjson_event(&ev, TZ);
		cr_assert_not_null(j, "%zu", i);
		d = json_object_get(j, "details");
		cr_expect(json_is_object(d) && json_object_size(d) == 0,
		    "%zu: %s", i, bad[i] != NULL ? bad[i] : "NULL");
		json_decref(j);
	}
}

Test(eventjson, type_or_severity_out_of_range)
{
	struct store_event	ev = ev_after_hours();

	ev.type = RULES_TYPE_COUNT;
	cr_expect_null(eventjson_event(&ev, TZ));
	ev = ev_after_hours();
	ev.severity = (enum rules_severity)(RULES_CRITICAL + 1);
	cr_expect_null(eventjson_event(&ev, TZ));
}

static char *
render(const struct store_event *evs, size_t n, bool json)
{
	struct eventjson_list	 l;
	char			*buf = NULL;
	size_t			 len = 0, i;
	FILE			*fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	eventjson_list_begin(&l, fp, TZ, json);
	for (i = 0; i < n; i++)
		cr_assert_eq(eventjson_list_add(&l, &evs[i]), 0);
	cr_assert_eq(eventjson_list_end(&l), 0);
	fclose(fp);
	return buf;
}

Test(eventjson, text_by_day)
{
	struct store_event	 evs[3];
	char			*s;

	evs[0] = ev_after_hours();
	evs[1] = ev_forbidden();
	evs[2] = ev_overnight();
	s = render(evs, 3, false);
	cr_assert_str_eq(s,
"2026-10-02 (Friday)\n"
"  21:14:05  21:40:10       0:26:05  violation  after_hours_use         30.57230,104.06650   -                         {\"covered_s\":0,\"min_s\":120}\n"
"  23:50:00  00:20:30 +1d   0:30:30  violation  forbidden_place         30.65000,104.00000   ktv-1 (金色年华KTV)       {\"category\":\"entertainment\",\"dwell_s\":300}\n"
"2026-10-03 (Saturday)\n"
"  22:00:00  ongoing              -  warning    overnight_parking       -                    -                         {\"check_time\":\"22:00\",\"reason\":\"outside every parking fen...\n"
"3 events: 2 violation, 1 warning\n");
	free(s);
}

Test(eventjson, text_counts_and_empty)
{
	struct store_event	 evs[3];
	char			*s;

	memset(evs, 0, sizeof(evs));
	s = render(evs, 0, false);
	cr_expect_str_eq(s, "no events\n");
	free(s);

	evs[0] = ev_overnight();
	evs[0].severity = RULES_CRITICAL;
	s = render(evs, 1, false);
	cr_expect_not_null(strstr(s, "\n1 event: 1 critical\n"), "%s", s);
	free(s);

	/* Most severe first; a fence without a name; empty details. */
	evs[0] = ev_after_hours();
	evs[0].severity = RULES_INFO;
	evs[1] = ev_forbidden();
	evs[1].details = "{}";
	evs[2] = ev_overnight();
	evs[2].severity = RULES_CRITICAL;
	s = render(evs, 3, false);
	cr_expect_not_null(strstr(s, "\n3 events: 1 critical, 1 violation, "
	    "1 info\n"), "%s", s);
	cr_expect_not_null(strstr(s, "  ktv-1                     -\n"), "%s",
	    s);
	free(s);
}

Test(eventjson, json_listing_one_array)
{
	struct store_event	 evs[3];
	json_error_t		 jerr;
	json_t			*j;
	char			*s;

	evs[0] = ev_after_hours();
	evs[1] = ev_forbidden();
	evs[2] = ev_overnight();
	s = render(evs, 3, true);
	j = json_loads(s, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", jerr.text, s);
	cr_assert(json_is_array(j));
	cr_expect_eq(json_array_size(j), 3);
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(j, 2),
	    "id")), 3);
	cr_expect(json_is_null(json_object_get(json_array_get(j, 2), "end")));
	/* One element per line. */
	cr_expect_eq(strncmp(s, "[\n{\"id\":1,", 10), 0, "%s", s);
	json_decref(j);
	free(s);

	s = render(evs, 0, true);
	cr_expect_str_eq(s, "[]\n");
	free(s);
}
