/* SPDX-License-Identifier: MIT */
/*
 * test_wirerec.c - stored records as platform records
 * (docs/platform-api.md §3): seq, kind and time first, in that order,
 * then the listing's members without its seq; the three event phases
 * with start_seq/end_seq; command results; positions rounded like their
 * listing so the bytes are stable; the same record gives the same bytes.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "record.h"
#include "rules.h"
#include "store.h"
#include "util.h"
#include "wirerec.h"

#define TZ		"Asia/Shanghai"
#define T0900_MS	1790902800000LL	/* 2026-10-02T09:00+08:00 */
#define S_MS		1000LL

TestSuite(wirerec, .timeout = 30);

static char *
dump(const struct store_record *r)
{
	json_t	*o = wirerec_record(r, TZ);
	char	*s;

	cr_assert_not_null(o, "record seq %llu not converted",
	    (unsigned long long)r->seq);
	s = json_dumps(o, WIREREC_DUMP_FLAGS);
	json_decref(o);
	cr_assert_not_null(s);
	return s;
}

/* The first three keys are seq, kind, time. */
static void
assert_head(const char *text, unsigned long long seq, const char *kind,
    const char *time)
{
	char	want[256];

	snprintf(want, sizeof(want), "{\"seq\":%llu,\"kind\":\"%s\","
	    "\"time\":\"%s\"", seq, kind, time);
	cr_assert(strncmp(text, want, strlen(want)) == 0,
	    "want a record starting %s, got %s", want, text);
}

static struct store_record
position(void)
{
	struct store_record	r;
	struct fix		*f = &r.u.pos.fix;
	size_t			 i;

	memset(&r, 0, sizeof(r));
	r.stream = STORE_STREAM_POSITIONS;
	r.seq = 4711;
	r.kind = STORE_REC_POSITION;
	r.u.pos.seq = 4711;
	f->t_utc_ms = T0900_MS + 5 * S_MS;
	f->lat_deg = 30.5723;
	f->lon_deg = 104.0665;
	f->alt_m = 498.2;
	f->speed_mps = 13.89;		/* 50.004 km/h, binary noise beyond */
	f->heading_deg = 87.5;
	f->hdop = 0.8;
	f->eph_m = NAN;
	f->mode = 3;
	f->sats_used = 14;
	f->sats_visible = 20;
	for (i = 0; i < GNSS_SYS_COUNT; i++) {
		f->sys[i].visible = 5;
		f->sys[i].used = 3;
	}
	record_obd_clear(&r.u.pos.obd);
	r.u.pos.obd.rpm = 1500;
	r.u.pos.obd.fuel_level_pct = 61.5;
	return r;
}

Test(wirerec, position_head_and_rounding)
{
	struct store_record	 r = position();
	char			*s = dump(&r), *again;

	assert_head(s, 4711, "position", "2026-10-02T09:00:05+08:00");
	cr_assert_not_null(strstr(s, "\"speed_kmh\":50.004,"),
	    "speed not rounded like the listing: %s", s);
	cr_assert_not_null(strstr(s, "\"lat\":30.5723,\"lon\":104.0665"), "%s",
	    s);
	cr_assert_not_null(strstr(s, "\"obd\":{"), "%s", s);
	/* The listing's own seq is not repeated. */
	cr_assert_null(strstr(s + 2, "\"seq\""), "seq twice: %s", s);
	again = dump(&r);
	cr_assert_str_eq(s, again, "the same record gave other bytes");
	free(s);
	free(again);
}

static struct store_record
event(enum store_rec_kind k)
{
	struct store_record	r;
	struct store_event	*ev = &r.u.ev;

	memset(&r, 0, sizeof(r));
	r.stream = STORE_STREAM_EVENTS;
	r.kind = k;
	ev->id = 9;
	ev->seq = 30;
	ev->end_seq = k == STORE_REC_EVENT_START ? 0 :
	    k == STORE_REC_EVENT_COMPLETE ? 30 : 34;
	ev->type = RULES_SPEEDING;
	ev->severity = RULES_WARNING;
	ev->start_utc_ms = T0900_MS + 60 * S_MS;
	ev->end_utc_ms = k == STORE_REC_EVENT_START ? 0 :
	    ev->start_utc_ms + 50 * S_MS;
	ev->trip_id = 3;
	ev->lat_deg = 30.6;
	ev->lon_deg = 104.07;
	util_strlcpy(ev->fence_id, "ring3-south", sizeof(ev->fence_id));
	ev->details = "{\"limit_kmh\":80.0}";
	r.seq = k == STORE_REC_EVENT_END ? 34 : 30;
	return r;
}

Test(wirerec, event_start)
{
	struct store_record	 r = event(STORE_REC_EVENT_START);
	char			*s = dump(&r);

	assert_head(s, 30, "event", "2026-10-02T09:01:00+08:00");
	cr_assert_not_null(strstr(s, "\"phase\":\"start\",\"start_seq\":30,"
	    "\"end_seq\":null,\"id\":9,\"type\":\"speeding\""), "%s", s);
	cr_assert_not_null(strstr(s, "\"end\":null"), "%s", s);
	free(s);
}

Test(wirerec, event_end_time_is_the_end)
{
	struct store_record	 r = event(STORE_REC_EVENT_END);
	char			*s = dump(&r);

	assert_head(s, 34, "event", "2026-10-02T09:01:50+08:00");
	cr_assert_not_null(strstr(s, "\"phase\":\"end\",\"start_seq\":30,"
	    "\"end_seq\":34,\"id\":9"), "%s", s);
	cr_assert_not_null(strstr(s, "\"end\":\"2026-10-02T09:01:50+08:00\""),
	    "%s", s);
	cr_assert_not_null(strstr(s, "\"details\":{\"limit_kmh\":80.0}"),
	    "%s", s);
	free(s);
}

Test(wirerec, event_complete)
{
	struct store_record	 r = event(STORE_REC_EVENT_COMPLETE);
	char			*s = dump(&r);

	cr_assert_not_null(strstr(s, "\"phase\":\"complete\",\"start_seq\":30,"
	    "\"end_seq\":30,"), "%s", s);
	free(s);
}

Test(wirerec, trip)
{
	struct store_record	 r;
	char			*s;

	memset(&r, 0, sizeof(r));
	r.stream = STORE_STREAM_EVENTS;
	r.kind = STORE_REC_TRIP;
	r.seq = 12;
	r.u.trip.seq = 12;
	r.u.trip.trip.id = 5;
	r.u.trip.trip.start_utc_ms = T0900_MS;
	r.u.trip.trip.end_utc_ms = T0900_MS + 600 * S_MS;
	r.u.trip.trip.distance_m = 4321.06;
	r.u.trip.trip.fuel_used_l = NAN;
	r.u.trip.trip.start_lat_deg = NAN;
	r.u.trip.trip.start_lon_deg = NAN;
	r.u.trip.trip.end_lat_deg = NAN;
	r.u.trip.trip.end_lon_deg = NAN;
	r.u.trip.trip.odometer_start_km = NAN;
	r.u.trip.trip.odometer_end_km = NAN;
	r.u.trip.trip.ended_by = TRIP_END_IGNITION_OFF;
	s = dump(&r);
	assert_head(s, 12, "trip", "2026-10-02T09:10:00+08:00");
	cr_assert_not_null(strstr(s, "\"id\":5,\"start\":"), "%s", s);
	cr_assert_not_null(strstr(s, "\"ended_by\":\"ignition_off\""), "%s", s);
	cr_assert_not_null(strstr(s, "\"fuel_used_l\":null"), "%s", s);
	free(s);
}

Test(wirerec, command_result)
{
	struct store_record	 r;
	char			*s;

	memset(&r, 0, sizeof(r));
	r.stream = STORE_STREAM_EVENTS;
	r.kind = STORE_REC_COMMAND_RESULT;
	r.seq = 57;
	r.u.cmd.seq = 57;
	util_strlcpy(r.u.cmd.id, "c-1001", sizeof(r.u.cmd.id));
	util_strlcpy(r.u.cmd.type, "frobnicate", sizeof(r.u.cmd.type));
	util_strlcpy(r.u.cmd.status, "unsupported", sizeof(r.u.cmd.status));
	r.u.cmd.received_utc_ms = T0900_MS;
	r.u.cmd.done_utc_ms = T0900_MS + 1 * S_MS;
	r.u.cmd.error = "unsupported command type \"frobnicate\"";
	s = dump(&r);
	cr_assert_str_eq(s, "{\"seq\":57,\"kind\":\"command_result\","
	    "\"time\":\"2026-10-02T09:00:01+08:00\",\"id\":\"c-1001\","
	    "\"type\":\"frobnicate\",\"status\":\"unsupported\","
	    "\"received\":\"2026-10-02T09:00:00+08:00\",\"result\":null,"
	    "\"error\":\"unsupported command type \\\"frobnicate\\\"\"}");
	free(s);
	r.u.cmd.error = NULL;
	util_strlcpy(r.u.cmd.status, "ok", sizeof(r.u.cmd.status));
	r.u.cmd.result = "{\"queued\":3}";
	s = dump(&r);
	cr_assert_not_null(strstr(s, "\"result\":{\"queued\":3},\"error\":"
	    "null}"), "%s", s);
	free(s);
}

Test(wirerec, kinds_and_bad_input)
{
	struct store_record	r = position();

	cr_assert_str_eq(wirerec_kind_name(STORE_REC_EVENT_END), "event");
	cr_assert_str_eq(wirerec_kind_name(STORE_REC_COMMAND_RESULT),
	    "command_result");
	cr_assert_null(wirerec_kind_name((enum store_rec_kind)99));
	r.kind = (enum store_rec_kind)99;
	cr_assert_null(wirerec_record(&r, TZ));
	r = position();
	cr_assert_null(wirerec_record(&r, "Not/AZone"));
}
