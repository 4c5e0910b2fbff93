/* SPDX-License-Identifier: MIT */
/*
 * test_report.c - the HTML report: projection and scale bar arithmetic,
 * escaping, track thinning, details summaries, and whole documents
 * (structure, summary figures, fences from a set and from the daemon's
 * infos, no external reference of any kind, size of a long day).
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fence.h"
#include "geo.h"
#include "report.h"
#include "rules.h"
#include "store.h"
#include "util.h"

#define M_PER_DEG	(GEO_EARTH_RADIUS_M * M_PI / 180.0)
#define TZ		"Asia/Shanghai"
/* 2026-10-13T00:00:00+08:00 */
#define DAY0_MS		1791820800000LL
#define HOUR_MS		3600000LL

/* ------------------------------------------------------ projection */

Test(report, proj_centre_and_scale)
{
	struct report_proj	p;
	double			x, y, lon, lat, dx, want;

	/* Chengdu: 0.1 x 0.05 degrees. */
	report_proj_fit(&p, 104.0, 30.55, 104.1, 30.60, 1000, 700);
	cr_assert_float_eq(p.lon0, 104.05, 1e-12);
	cr_assert_float_eq(p.lat0, 30.575, 1e-12);
	cr_assert_float_eq(p.coslat, cos(30.575 * M_PI / 180.0), 1e-12);
	report_proj_xy(&p, 104.05, 30.575, &x, &y);
	cr_assert_float_eq(x, 500.0, 1e-9);
	cr_assert_float_eq(y, 350.0, 1e-9);
	/* Width 9.58 km, height 5.56 km: the width limits, 90 % of 1000. */
	want = 900.0 / (0.1 * M_PER_DEG * cos(30.575 * M_PI / 180.0));
	cr_assert_float_eq(p.px_per_m, want, 1e-12);
	report_proj_xy(&p, 104.0, 30.575, &x, &y);
	cr_assert_float_eq(x, 50.0, 1e-9);
	report_proj_xy(&p, 104.1, 30.575, &x, &y);
	cr_assert_float_eq(x, 950.0, 1e-9);
	/* North is up. */
	report_proj_xy(&p, 104.05, 30.60, &x, &y);
	cr_assert_lt(y, 350.0);
	/* One scale both ways: 1 km east and 1 km north are as long. */
	report_proj_xy(&p, 104.05 + 1000.0 / (M_PER_DEG * p.coslat), 30.575,
	    &dx, &y);
	cr_assert_float_eq(dx - 500.0, 1000.0 * p.px_per_m, 1e-9);
	report_proj_xy(&p, 104.05, 30.575 + 1000.0 / M_PER_DEG, &x, &y);
	cr_assert_float_eq(350.0 - y, 1000.0 * p.px_per_m, 1e-9);
	/* The inverse. */
	report_proj_lonlat(&p, 123.4, 567.8, &lon, &lat);
	report_proj_xy(&p, lon, lat, &x, &y);
	cr_assert_float_eq(x, 123.4, 1e-9);
	cr_assert_float_eq(y, 567.8, 1e-9);
	/* Against the haversine: 1000 px of map width in metres. */
	report_proj_lonlat(&p, 0, 350, &lon, &lat);
	report_proj_lonlat(&p, 1000, 350, &dx, &y);
	cr_assert_float_eq(geo_distance_m(lat, lon, y, dx) * p.px_per_m,
	    1000.0, 0.5);
}

Test(report, proj_tall_box_and_min_span)
{
	struct report_proj	p;
	double			x, y;

	/* Tall: the height limits (90 % of 700). */
	report_proj_fit(&p, 104.0, 30.0, 104.01, 31.0, 1000, 700);
	cr_assert_float_eq(p.px_per_m, 630.0 / (1.0 * M_PER_DEG), 1e-12);
	/* One point: grown to REPORT_MIN_SPAN_M both ways. */
	report_proj_fit(&p, 104.0665, 30.5723, 104.0665, 30.5723, 1000, 700);
	cr_assert_float_eq(p.px_per_m, 630.0 / REPORT_MIN_SPAN_M, 1e-12);
	report_proj_xy(&p, 104.0665, 30.5723, &x, &y);
	cr_assert_float_eq(x, 500.0, 1e-9);
	cr_assert_float_eq(y, 350.0, 1e-9);
	cr_assert(isfinite(p.px_per_m));
}

/* ------------------------------------------------------- scale bar */

Test(report, scale_bar_1_2_5)
{
	static const struct {
		double		 m_per_px, max_px, len_m;
		const char	*label;
	} cases[] = {
		{ 10.0, 180, 1000, "1 km" },	/* up to 1800 m */
		{ 3.3, 180, 500, "500 m" },	/* 594 m */
		{ 25.0, 180, 2000, "2 km" },	/* 4500 m */
		{ 30.0, 180, 5000, "5 km" },	/* 5400 m */
		{ 0.05, 180, 5, "5 m" },	/* 9 m */
		{ 1.0, 100, 100, "100 m" },	/* exactly 100 m */
		{ 1000.0, 180, 100000, "100 km" },
		{ 0.001, 180, 1, "1 m" },	/* below a metre: 1 m */
	};
	double	len_px, len;
	char	label[32];
	size_t	i;

	for (i = 0; i < NELEM(cases); i++) {
		len = report_scale_bar(cases[i].m_per_px, cases[i].max_px,
		    &len_px, label, sizeof(label));
		cr_assert_float_eq(len, cases[i].len_m, 1e-9, "case %zu", i);
		cr_assert_float_eq(len_px, cases[i].len_m / cases[i].m_per_px,
		    1e-9, "case %zu", i);
		cr_assert_str_eq(label, cases[i].label, "case %zu", i);
		if (cases[i].m_per_px * cases[i].max_px >= 1.0)
			cr_assert_leq(len_px, cases[i].max_px + 1e-9);
	}
}

/* -------------------------------------------------------- escaping */

static void
check_escape(const char *in, const char *want)
{
	char	*got = report_html_escape(in);

	cr_assert_str_eq(got, want, "escape(\"%s\")", in);
	free(got);
}

Test(report, html_escape)
{
	check_escape("", "");
	check_escape("lot-a", "lot-a");
	check_escape("<script>alert('x')</script>",
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;&#47;script&gt;");
	check_escape("a & b \"c\"", "a &amp; b &quot;c&quot;");
	check_escape("http://evil.example/x.js",
	    "http&#58;&#47;&#47;evil.example&#47;x.js");
	check_escape("08:52 a:b", "08:52 a:b");
	check_escape("川A12345 机关大院", "川A12345 机关大院");
	check_escape("tab\tnl\n", "tab\tnl\n");
	check_escape("bell\x07" "del\x7f", "bell\xef\xbf\xbd" "del\xef\xbf\xbd");
	/* Not UTF-8: a lone continuation, a cut sequence, an overlong. */
	check_escape("x\x80y", "x\xef\xbf\xbdy");
	check_escape("\xe5\x90", "\xef\xbf\xbd\xef\xbf\xbd");
	check_escape("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	check_escape("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* C1 control U+0085 */
	check_escape("a\xc2\x85z", "a\xef\xbf\xbdz");
	/* 4-byte sequence kept */
	check_escape("\xf0\x9f\x9a\x97", "\xf0\x9f\x9a\x97");
}

Test(report, fputs_html)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(report_fputs_html(fp, "<b>"), 0);
	cr_assert_eq(report_fputs_html(fp, NULL), 0);
	fclose(fp);
	cr_assert_str_eq(buf, "&lt;b&gt;");
	free(buf);
}

/* ------------------------------------------------------- thinning */

Test(report, decimate_line)
{
	size_t	n = 28800, i, m;
	double	*xy = xcalloc(2 * n, sizeof(double));

	/* A day at 1 Hz along 1000 px: about one point per pixel stays. */
	for (i = 0; i < n; i++) {
		xy[2 * i] = 1000.0 * (double)i / (double)(n - 1);
		xy[2 * i + 1] = 300.0;
	}
	m = report_decimate(xy, n, 1.0);
	cr_assert_geq(m, 990);
	cr_assert_leq(m, 1002);
	cr_assert_float_eq(xy[0], 0.0, 1e-12);
	cr_assert_float_eq(xy[2 * (m - 1)], 1000.0, 1e-12);
	for (i = 1; i + 1 < m; i++)
		cr_assert_geq(xy[2 * i] - xy[2 * (i - 1)], 1.0 - 1e-9);
	free(xy);
}

Test(report, decimate_standing_and_short)
{
	double	xy[2 * 500], two[4] = { 1, 2, 1, 2 };
	size_t	i;

	/* A parked car: jitter under a pixel collapses to first + last. */
	for (i = 0; i < 500; i++) {
		xy[2 * i] = 100.0 + 0.3 * sin((double)i);
		xy[2 * i + 1] = 50.0 + 0.3 * cos((double)i);
	}
	cr_assert_eq(report_decimate(xy, 500, 1.0), 2);
	cr_assert_float_eq(xy[0], 100.0, 1e-12);
	cr_assert_eq(report_decimate(two, 2, 1.0), 2);
	cr_assert_eq(report_decimate(xy, 1, 1.0), 1);
	cr_assert_eq(report_decimate(xy, 0, 1.0), 0);
}

/* -------------------------------------------------- details summary */

Test(report, details_summary)
{
	char	*s;
	char	 big[512];
	size_t	 i;

	s = report_details_summary("{\"fence_name\":\"x\",\"limit_kmh\":60.5,"
	    "\"max_kmh\":75,\"place\":\"中文\",\"tags\":[1,2]}", 200);
	cr_assert_str_eq(s, "limit_kmh: 60.5; max_kmh: 75; place: 中文; "
	    "tags: [1,2]");
	free(s);
	s = report_details_summary("{}", 200);
	cr_assert_str_eq(s, "");
	free(s);
	s = report_details_summary("not json", 200);
	cr_assert_str_eq(s, "");
	free(s);
	s = report_details_summary("[1]", 200);
	cr_assert_str_eq(s, "");
	free(s);
	/* Cut on a character boundary, "..." added. */
	strcpy(big, "{\"k\":\"");
	for (i = 0; i < 40; i++)
		strcat(big, "汉");
	strcat(big, "\"}");
	s = report_details_summary(big, 20);
	cr_assert_leq(strlen(s), 20);
	cr_assert_str_eq(s + strlen(s) - 3, "...");
	/* "k: " is 3 bytes, then whole 3-byte characters */
	cr_assert_eq((strlen(s) - 3 - 3) % 3, 0);
	free(s);
}

/* --------------------------------------------------- whole reports */

static struct store_position
pos_at(int64_t t, double lat, double lon)
{
	struct store_position	p;

	memset(&p, 0, sizeof(p));
	p.fix.t_utc_ms = t;
	p.fix.lat_deg = lat;
	p.fix.lon_deg = lon;
	p.fix.speed_mps = 10;
	p.fix.mode = 3;
	return p;
}

static struct store_trip
trip_of(uint64_t id, int64_t start, int64_t end, double lat0, double lon0,
    double lat1, double lon1, double dist_m, double driving_s)
{
	struct store_trip	t;

	memset(&t, 0, sizeof(t));
	t.seq = id;
	t.trip.id = id;
	t.trip.start_utc_ms = start;
	t.trip.end_utc_ms = end;
	t.trip.distance_m = dist_m;
	t.trip.duration_s = (double)(end - start) / 1000.0;
	t.trip.driving_s = driving_s;
	t.trip.idle_s = 60;
	t.trip.max_speed_kmh = 72.4;
	t.trip.avg_speed_kmh = 30;
	t.trip.fuel_used_l = NAN;
	t.trip.start_lat_deg = lat0;
	t.trip.start_lon_deg = lon0;
	t.trip.end_lat_deg = lat1;
	t.trip.end_lon_deg = lon1;
	t.trip.odometer_start_km = NAN;
	t.trip.odometer_end_km = NAN;
	t.trip.ended_by = TRIP_END_IGNITION_OFF;
	return t;
}

static struct store_event
event_of(uint64_t id, enum rules_type type, int64_t start, int64_t end,
    double lat, double lon, const char *fence, const char *details)
{
	struct store_event	e;

	memset(&e, 0, sizeof(e));
	e.id = id;
	e.seq = id;
	e.end_seq = end != 0 ? id : 0;
	e.type = type;
	e.severity = rules_type_severity(type);
	e.start_utc_ms = start;
	e.end_utc_ms = end;
	e.lat_deg = lat;
	e.lon_deg = lon;
	util_strlcpy(e.fence_id, fence, sizeof(e.fence_id));
	e.details = details;
	return e;
}

static char *
render(struct report *r, size_t *len)
{
	char	*buf = NULL;
	FILE	*fp = open_memstream(&buf, len);

	cr_assert_not_null(fp);
	cr_assert_eq(report_write(r, fp), 0);
	cr_assert_eq(fclose(fp), 0);
	return buf;
}

/* Nothing that could load anything: strict, on the raw bytes. */
static void
assert_self_contained(const char *html)
{
	cr_assert_null(strstr(html, "http:"), "\"http:\" in the output");
	cr_assert_null(strstr(html, "https:"), "\"https:\" in the output");
	cr_assert_null(strstr(html, "//"), "\"//\" in the output");
	cr_assert_null(strstr(html, "<script"), "a script");
	cr_assert_null(strstr(html, "src="), "a src attribute");
	cr_assert_null(strstr(html, "href="), "a link");
	cr_assert_null(strstr(html, "url("), "a url() reference");
	cr_assert_null(strstr(html, "@import"), "an @import");
	cr_assert_null(strstr(html, "@font-face"), "a web font");
	cr_assert_null(strstr(html, "<link"), "a <link>");
	cr_assert_null(strstr(html, "<img"), "an <img>");
}

static size_t
count(const char *hay, const char *needle)
{
	size_t		 n = 0;
	const char	*p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static struct report *
two_day_report(const char *fences_from)
{
	struct report_opts	 o;
	struct report		*r;
	struct store_position	 p;
	struct store_trip	 t;
	struct store_event	 e;
	size_t			 i, n = 28800;
	int64_t			 t0 = DAY0_MS + 8 * HOUR_MS;

	memset(&o, 0, sizeof(o));
	o.vehicle.device_id = "SC-0001";
	o.vehicle.plate = "川A12345";
	o.vehicle.unit = "<unit> & co";
	o.vehicle.vehicle_class = "general";
	o.vehicle.vin = "LFGAB3C50RC012345";
	o.tz = TZ;
	o.from_utc_ms = DAY0_MS;
	o.to_utc_ms = DAY0_MS + 2 * 24 * HOUR_MS;
	o.generated_utc_ms = DAY0_MS + 3 * 24 * HOUR_MS;
	o.source = "database file /tmp/x.db";
	o.fences_from = fences_from;
	o.fences_note = fences_from == NULL ? "--db alone" : NULL;
	r = report_new(&o);

	/* Day 1: 8 h at 1 Hz, a loop of 0.05 x 0.03 degrees, and back. */
	for (i = 0; i < n; i++) {
		double	a = 2.0 * M_PI * (double)i / (double)n;

		p = pos_at(t0 + (int64_t)i * 1000, 30.57 + 0.015 * sin(a),
		    104.06 + 0.025 * (1.0 - cos(a)));
		cr_assert_eq(report_add_position(r, &p), 0);
	}
	t = trip_of(1, t0, t0 + (int64_t)(n - 1) * 1000, 30.57, 104.06,
	    30.57, 104.06, 123456.7, 25000.25);
	report_add_trip(r, &t);
	/* Day 2: a short trip, 60 positions. */
	t0 = DAY0_MS + 24 * HOUR_MS + 9 * HOUR_MS;
	for (i = 0; i < 60; i++) {
		p = pos_at(t0 + (int64_t)i * 1000, 30.58 + 0.0002 * (double)i,
		    104.07);
		report_add_position(r, &p);
	}
	t = trip_of(2, t0, t0 + 59000, 30.58, 104.07, 30.5918, 104.07,
	    1300.0, 50.0);
	report_add_trip(r, &t);
	/* Day 2 again, later: no positions at all (gateway off). */
	t = trip_of(3, t0 + HOUR_MS, t0 + 2 * HOUR_MS, NAN, NAN, NAN, NAN,
	    0.0, 0.0);
	report_add_trip(r, &t);

	e = event_of(1, RULES_FUEL_DROP, DAY0_MS + 9 * HOUR_MS,
	    DAY0_MS + 11 * HOUR_MS, 30.571, 104.061, "",
	    "{\"drop_l\":9.0,\"from_pct\":57.6}");
	report_add_event(r, &e);
	e = event_of(2, RULES_SPEEDING, DAY0_MS + 10 * HOUR_MS,
	    DAY0_MS + 10 * HOUR_MS + 66000, 30.58, 104.08, "",
	    "{\"max_kmh\":75.2,\"limit_kmh\":60}");
	report_add_event(r, &e);
	e = event_of(3, RULES_FORBIDDEN_PLACE, DAY0_MS + 33 * HOUR_MS, 0,
	    30.59, 104.07, "<b>ktv",
	    "{\"fence_name\":\"金色年华KTV </script>\",\"url\":"
	    "\"https://x.example/a\"}");
	report_add_event(r, &e);
	e = event_of(4, RULES_INSPECTION_EXPORT, DAY0_MS + 33 * HOUR_MS + 5000,
	    DAY0_MS + 33 * HOUR_MS + 5000, NAN, NAN, "", "{}");
	report_add_event(r, &e);
	return r;
}

Test(report, document_structure_and_summary)
{
	struct report_counts	 c;
	struct report		*r = two_day_report(NULL);
	size_t			 len;
	char			*html = render(r, &len);

	assert_self_contained(html);
	cr_assert_eq(strncmp(html, "<!DOCTYPE html>\n", 16), 0);
	cr_assert_not_null(strstr(html, "<meta charset=\"utf-8\">"));
	cr_assert_not_null(strstr(html, "@page { size: A4"));
	cr_assert_not_null(strstr(html, "WenQuanYi Zen Hei"));
	cr_assert_not_null(strstr(html, "</html>\n"));
	/* Header */
	cr_assert_not_null(strstr(html, "川A12345"));
	cr_assert_not_null(strstr(html, "&lt;unit&gt; &amp; co"));
	cr_assert_not_null(strstr(html, "LFGAB3C50RC012345"));
	cr_assert_not_null(strstr(html, "2026-10-13T00:00:00+08:00 to "
	    "2026-10-15T00:00:00+08:00"));
	cr_assert_not_null(strstr(html, "2026-10-16T00:00:00+08:00"));
	/* Summary: 3 trips, 124.76 km, driving 25050.25 s = 6:57:30 */
	cr_assert_not_null(strstr(html, "id=\"sum-trips\">3<"));
	cr_assert_not_null(strstr(html, "data-m=\"124756.7\">124.76<"));
	cr_assert_not_null(strstr(html, "data-s=\"25050.250\">6:57:30<"));
	cr_assert_not_null(strstr(html, "id=\"sum-events\">4<"));
	cr_assert_not_null(strstr(html, "id=\"sum-sev-critical\">1<"));
	cr_assert_not_null(strstr(html, "id=\"sum-sev-violation\">1<"));
	cr_assert_not_null(strstr(html, "id=\"sum-sev-warning\">1<"));
	cr_assert_not_null(strstr(html, "id=\"sum-sev-info\">1<"));
	cr_assert_not_null(strstr(html, "<tr data-type=\"fuel_drop\" "
	    "data-count=\"1\">"));
	cr_assert_not_null(strstr(html, "<tr data-type=\"forbidden_place\" "
	    "data-count=\"1\">"));
	cr_assert_not_null(strstr(html, "<tr data-type=\"speeding\" "
	    "data-count=\"1\">"));
	/* The violations table holds no warning. */
	cr_assert_lt(strstr(html, "id=\"violations\""),
	    strstr(html, "data-type=\"fuel_drop\" data-count"));
	cr_assert_gt(strstr(html, "id=\"other-events\""),
	    strstr(html, "data-type=\"forbidden_place\" data-count"));
	/* Map: frame, two day colours, markers #1..#3 (not the info one). */
	cr_assert_not_null(strstr(html, "<svg id=\"map\""));
	cr_assert_not_null(strstr(html, "stroke=\"" REPORT_FRAME_COLOUR "\""));
	cr_assert_not_null(strstr(html, "stroke=\"" REPORT_DAY_COLOUR0 "\""));
	cr_assert_eq(count(html, "class=\"track\""), 2);
	cr_assert_eq(count(html, "<circle class=\"violation\""), 2);
	cr_assert_eq(count(html, "<path class=\"warning\""), 1);
	cr_assert_not_null(strstr(html, ">#1 09:00<"));
	cr_assert_not_null(strstr(html, ">#2 10:00<"));
	cr_assert_not_null(strstr(html, ">#3 09:00<"));
	cr_assert_null(strstr(html, ">#4 "));
	cr_assert_not_null(strstr(html, "id=\"scale-bar\""));
	cr_assert_not_null(strstr(html, "id=\"north-arrow\""));
	cr_assert_not_null(strstr(html, "id=\"legend\""));
	cr_assert_not_null(strstr(html, "2026-10-14</text>"));
	/* No fences: said so. */
	cr_assert_not_null(strstr(html, "id=\"no-fences\">No fences drawn: "
	    "--db alone."));
	/* Days and their tables; event text escaped. */
	cr_assert_not_null(strstr(html, "id=\"day-2026-10-13\""));
	cr_assert_not_null(strstr(html, "2026-10-13 (Tuesday)"));
	cr_assert_not_null(strstr(html, "id=\"day-2026-10-14\""));
	cr_assert_not_null(strstr(html, "2026-10-14 (Wednesday)"));
	cr_assert_not_null(strstr(html, "&lt;b&gt;ktv (金色年华KTV "
	    "&lt;&#47;script&gt;)"));
	cr_assert_not_null(strstr(html, "url: https&#58;&#47;&#47;x.example"));
	cr_assert_not_null(strstr(html, ">ongoing<"));
	cr_assert_not_null(strstr(html, "drop_l: 9; from_pct: 57.6"));
	cr_assert_eq(count(html, "<table class=\"trips\">"), 2);
	cr_assert_eq(count(html, "<table class=\"events\">"), 2);
	/* Thinning: 28,860 positions, a few thousand points drawn. */
	report_get_counts(r, &c);
	cr_assert_eq(c.positions, 28860);
	cr_assert_eq(c.trips, 3);
	cr_assert_eq(c.events, 4);
	cr_assert_lt(c.points_drawn, 4000, "%zu points", c.points_drawn);
	cr_assert_gt(c.points_drawn, 500);
	cr_assert_lt(len, 150000, "%zu bytes", len);
	free(html);
	report_free(r);
}

Test(report, fences_from_daemon_infos)
{
	struct report	*r = two_day_report("the daemon (ctl.sock)");
	json_t		*circle, *poly, *far, *region, *bad;
	size_t		 len;
	char		*html;

	circle = json_pack("{s:s, s:s, s:s, s:s, s:[f,f,f,f], s:[f,f], s:f}",
	    "id", "office", "name", "机关大院", "kind", "office", "shape",
	    "circle", "bbox", 104.064, 30.570, 104.066, 30.572, "center",
	    104.065, 30.571, "radius_m", 100.0);
	poly = json_pack("{s:s, s:s, s:s, s:s, s:[f,f,f,f]}", "id",
	    "lot<1>", "name", "", "kind", "parking", "shape", "polygon",
	    "bbox", 104.07, 30.58, 104.071, 30.581);
	far = json_pack("{s:s, s:s, s:s, s:s, s:[f,f,f,f]}", "id", "lhasa",
	    "name", "", "kind", "forbidden", "shape", "polygon", "bbox",
	    91.0, 29.6, 91.2, 29.7);
	region = json_pack("{s:s, s:s, s:s, s:s, s:[f,f,f,f]}", "id",
	    "sichuan", "name", "四川", "kind", "region", "shape", "polygon",
	    "bbox", 97.3, 26.0, 108.5, 34.3);
	bad = json_pack("{s:s}", "id", "nobbox");
	cr_assert_eq(report_add_fence_info(r, circle), 0);
	cr_assert_eq(report_add_fence_info(r, poly), 0);
	cr_assert_eq(report_add_fence_info(r, far), 0);
	cr_assert_eq(report_add_fence_info(r, region), 0);
	cr_assert_eq(report_add_fence_info(r, bad), -1);
	html = render(r, &len);
	assert_self_contained(html);
	/* The circle exactly, the polygons as dashed boxes; lhasa not. */
	cr_assert_not_null(strstr(html, "<title>office 机关大院 (office)"));
	cr_assert_not_null(strstr(html, "<title>lot&lt;1&gt; (parking)"));
	cr_assert_null(strstr(html, "lhasa"));
	cr_assert_not_null(strstr(html, ">sichuan (region)</text>"));
	cr_assert_not_null(strstr(html, "bounding box (dashed)"));
	cr_assert_not_null(strstr(html, "Fences from the daemon (ctl.sock): "
	    "3 on the map."));
	cr_assert_not_null(strstr(html, "id=\"fence-list\""));
	cr_assert_null(strstr(html, "id=\"no-fences\""));
	/* A trip that starts in the office circle is "from" it. */
	free(html);
	json_decref(circle);
	json_decref(poly);
	json_decref(far);
	json_decref(region);
	json_decref(bad);
	report_free(r);
}

/* A fence set as fenceload() would build it, drawn exactly. */
Test(report, fences_from_set)
{
	struct fence_builder	*b = fence_builder_new();
	struct fence_set	*set;
	struct fence_spec	 sp;
	struct report		*r;
	char			 why[256], *html;
	size_t			 len, i;
	/* A lot with a hole, around the start of the day-1 loop. */
	const double	shell[] = { 104.058, 30.568, 104.062, 30.568,
			    104.062, 30.572, 104.058, 30.572 };
	const double	hole[] = { 104.059, 30.569, 104.061, 30.569,
			    104.061, 30.571, 104.059, 30.571 };
	/* A region of 2000 vertices far larger than the map. */
	double		region[2 * 2000];
	const double	route[] = { 104.06, 30.58, 104.08, 30.58, 104.09,
			    30.575 };

	memset(&sp, 0, sizeof(sp));
	sp.crs = GEO_CRS_WGS84;
	sp.dwell_s = -1;
	sp.id = "lot-a";
	sp.name = "大院停车场";
	sp.kind = FENCE_PARKING;
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0, "%s",
	    why);
	cr_assert_eq(fence_builder_part(b, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(fence_builder_ring(b, shell, 4, why, sizeof(why)), 0,
	    "%s", why);
	cr_assert_eq(fence_builder_ring(b, hole, 4, why, sizeof(why)), 0,
	    "%s", why);
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
	sp.id = "chengdu";
	sp.name = "成都市";
	sp.kind = FENCE_REGION;
	for (i = 0; i < 2000; i++) {
		double	a = 2.0 * M_PI * (double)i / 2000.0;

		region[2 * i] = 104.0 + 1.0 * cos(a);
		region[2 * i + 1] = 30.6 + 0.8 * sin(a);
	}
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0);
	cr_assert_eq(fence_builder_part(b, why, sizeof(why)), 0);
	cr_assert_eq(fence_builder_ring(b, region, 2000, why, sizeof(why)), 0,
	    "%s", why);
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
	sp.id = "office";
	sp.name = NULL;
	sp.kind = FENCE_OFFICE;
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0);
	cr_assert_eq(fence_builder_circle(b, 104.07, 30.58, 120.0, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
	sp.id = "route-1";
	sp.kind = FENCE_DESTINATION;
	cr_assert_eq(fence_builder_begin(b, &sp, why, sizeof(why)), 0);
	cr_assert_eq(fence_builder_corridor(b, route, 3, 200.0, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(fence_builder_end(b, why, sizeof(why)), 0, "%s", why);
	set = fence_builder_finish(b);

	r = two_day_report("the configuration test.conf");
	report_set_fences(r, set);
	html = render(r, &len);
	assert_self_contained(html);
	/* Lot: one even-odd path with two rings. */
	cr_assert_not_null(strstr(html, "<path fill-rule=\"evenodd\" "
	    "stroke=\"#0097a7\""));
	cr_assert_not_null(strstr(html, "<title>lot-a 大院停车场 (parking)"));
	cr_assert_not_null(strstr(html, ">lot-a (parking)</text>"));
	/* The region, clipped: its label in the corner. */
	cr_assert_not_null(strstr(html, ">chengdu (region)</text>"));
	cr_assert_not_null(strstr(html, "<title>office (office)"));
	cr_assert_not_null(strstr(html, "<title>route-1 (destination)"));
	cr_assert_not_null(strstr(html, "Fences from the configuration "
	    "test.conf: 4 on the map."));
	cr_assert_null(strstr(html, "bounding box (dashed)"));
	/* Trip 1 starts and ends at (30.57, 104.06), in the lot's hole:
	 * not in the lot.  Trip 2 starts in the office circle. */
	cr_assert_not_null(strstr(html, "<td>office<br><span class=\"note\">"
	    "30.58000, 104.07000</span></td>"));
	cr_assert_not_null(strstr(html, "<td><span class=\"note\">30.57000, "
	    "104.06000</span></td>"));
	/* The region ring was clipped: far fewer than 2000 points. */
	cr_assert_lt(len, 160000);
	free(html);
	report_free(r);
	fence_set_free(set);
}

Test(report, empty_period)
{
	struct report_opts	 o;
	struct report		*r;
	size_t			 len;
	char			*html;

	memset(&o, 0, sizeof(o));
	o.tz = TZ;
	o.from_utc_ms = INT64_MIN;
	o.to_utc_ms = INT64_MAX;
	o.generated_utc_ms = DAY0_MS;
	r = report_new(&o);
	html = render(r, &len);
	assert_self_contained(html);
	cr_assert_null(strstr(html, "http"));	/* not even the word */
	cr_assert_not_null(strstr(html, "no positions in this period"));
	cr_assert_not_null(strstr(html, "No trips and no events"));
	cr_assert_not_null(strstr(html, "id=\"sum-trips\">0<"));
	cr_assert_not_null(strstr(html, "the first record to the last "
	    "record"));
	cr_assert_not_null(strstr(html, "<svg id=\"map\""));
	cr_assert_not_null(strstr(html, "<tr><th>Plate 车牌</th><td>&#8211;"));
	free(html);
	report_free(r);
}

Test(report, position_cap_and_bad_zone)
{
	struct report_opts	 o;
	struct report		*r;
	struct store_position	 p = pos_at(DAY0_MS, 30.5, 104.0);
	struct store_trip	 t = trip_of(1, DAY0_MS, DAY0_MS + 1000,
				    30.5, 104.0, 30.5, 104.0, 1, 1);
	FILE			*fp;
	char			*buf = NULL;
	size_t			 len = 0;

	memset(&o, 0, sizeof(o));
	o.tz = "No/Such_Zone";
	o.from_utc_ms = DAY0_MS;
	o.to_utc_ms = DAY0_MS + 1;
	r = report_new(&o);
	cr_assert_eq(report_add_position(r, &p), 0);
	p.fix.lat_deg = NAN;
	cr_assert_eq(report_add_position(r, &p), 0);	/* skipped */
	cr_assert_eq(report_positions(r), 1);
	report_add_trip(r, &t);
	fp = open_memstream(&buf, &len);
	cr_assert_eq(report_write(r, fp), -1);
	fclose(fp);
	free(buf);
	report_free(r);
	report_free(NULL);
}
