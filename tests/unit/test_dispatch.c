/* SPDX-License-Identifier: MIT */
/*
 * test_dispatch.c - dispatch orders (派车单) from and to JSON: tables of
 * good and bad order objects, CRS conversion of the destination, the
 * JSON members out, the round trip, and the listing (text table with CJK
 * widths, JSON array).
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dispatch.h"
#include "geo.h"
#include "rules.h"
#include "store.h"
#include "util.h"

#define TZ		"Asia/Shanghai"
#define T0900_MS	1790902800000LL	/* 2026-10-02T09:00+08:00 */
#define T1030_MS	1790908200000LL	/* 2026-10-02T10:30+08:00 */
#define DAY1002_MS	1790870400000LL	/* 2026-10-02T00:00+08:00 */
#define DAY_MS		86400000LL
#define CREATED_MS	1772440265000LL	/* 2026-03-02T16:31:05+08:00 */

TestSuite(dispatch, .timeout = 30);

/* The members every good order below shares, after its own. */
#define BASE	"\"purpose\":\"值班巡查\",\"approver\":\"王主任\"}"
#define WINDOW	"\"valid_from\":\"2026-10-02T09:00\"," \
		"\"valid_to\":\"2026-10-02T10:30\","

static json_t *
parse(const char *text)
{
	json_error_t	 jerr;
	json_t		*j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &jerr);

	cr_assert_not_null(j, "%s: %s", jerr.text, text);
	return j;
}

static int
from_text(const char *text, struct store_order *so, char *why, size_t len)
{
	json_t	*j = parse(text);
	int	 rc;

	rc = dispatch_from_json(j, TZ, so, why, len);
	json_decref(j);
	return rc;
}

static char *
repeat(char c, size_t n)
{
	char	*s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

struct good {
	const char	*json;
	int64_t		 from_ms, to_ms;
	bool		 has_point;
	double		 lon, lat, radius_m;
	const char	*dest_fence, *corridor;
};

static const struct good goods[] = {
	/* Local times in the zone, a point in WGS-84 by default. */
	{ "{\"id\":\"JD-20261002-01\"," WINDOW
	  "\"dest\":{\"lon\":104.072,\"lat\":30.5575,\"radius_m\":300}," BASE,
	  T0900_MS, T1030_MS, true, 104.072, 30.5575, 300, "", "" },
	/* RFC 3339, both forms; no destination at all. */
	{ "{\"id\":\"a\",\"valid_from\":\"2026-10-02T01:00:00Z\","
	  "\"valid_to\":\"2026-10-02T10:30:00+08:00\"," BASE,
	  T0900_MS, T1030_MS, false, 0, 0, 0, "", "" },
	/* Whole days: 31 exactly is the longest window. */
	{ "{\"id\":\"month\",\"valid_from\":\"2026-10-02\","
	  "\"valid_to\":\"2026-11-02\"," BASE,
	  DAY1002_MS, DAY1002_MS + 31 * DAY_MS, false, 0, 0, 0, "", "" },
	/* Nulls and "" for the optional members; explicit crs. */
	{ "{\"id\":\"n\"," WINDOW "\"dest\":null,\"dest_fence\":null,"
	  "\"corridor_fence\":\"\"," BASE,
	  T0900_MS, T1030_MS, false, 0, 0, 0, "", "" },
	{ "{\"id\":\"f\"," WINDOW "\"dest_fence\":\"lot-a\","
	  "\"corridor_fence\":\"成都-绕城\"," BASE,
	  T0900_MS, T1030_MS, false, 0, 0, 0, "lot-a", "成都-绕城" },
	{ "{\"id\":\"r10\"," WINDOW "\"dest\":{\"lon\":-180,\"lat\":90,"
	  "\"radius_m\":10,\"crs\":\"wgs84\"}," BASE,
	  T0900_MS, T1030_MS, true, -180, 90, 10, "", "" },
	{ "{\"id\":\"r50k\"," WINDOW "\"dest\":{\"crs\":\"cgcs2000\","
	  "\"radius_m\":50000.0,\"lat\":-33.5,\"lon\":151.25}," BASE,
	  T0900_MS, T1030_MS, true, 151.25, -33.5, 50000, "", "" },
	/* Printable ASCII ids with punctuation. */
	{ "{\"id\":\"~!@#$%^&*()_+{}|:<>?.,;'[]=-`\"," WINDOW BASE,
	  T0900_MS, T1030_MS, false, 0, 0, 0, "", "" },
};

Test(dispatch, good_orders)
{
	struct store_order	 so;
	char			 why[256];
	size_t			 i;

	for (i = 0; i < NELEM(goods); i++) {
		why[0] = '\0';
		cr_assert_eq(from_text(goods[i].json, &so, why, sizeof(why)), 0,
		    "%zu: %s: %s", i, goods[i].json, why);
		cr_expect_eq(so.o.valid_from_ms, goods[i].from_ms, "%zu", i);
		cr_expect_eq(so.o.valid_to_ms, goods[i].to_ms, "%zu", i);
		cr_expect_eq(so.o.has_dest_point, goods[i].has_point, "%zu", i);
		if (goods[i].has_point) {
			cr_expect_float_eq(so.o.dest_lon, goods[i].lon, 1e-12);
			cr_expect_float_eq(so.o.dest_lat, goods[i].lat, 1e-12);
			cr_expect_float_eq(so.o.dest_radius_m,
			    goods[i].radius_m, 1e-12);
		}
		cr_expect_str_eq(so.o.dest_fence, goods[i].dest_fence);
		cr_expect_str_eq(so.o.corridor_fence, goods[i].corridor);
		cr_expect_str_eq(so.purpose, "值班巡查");
		cr_expect_str_eq(so.approver, "王主任");
		cr_expect_str_eq(so.source, "");
		cr_expect_eq(so.created_utc_ms, 0);
	}
}

Test(dispatch, limits_of_lengths)
{
	struct store_order	 so;
	char			*id = repeat('x', RULES_ORDER_ID_MAX);
	char			*purpose = repeat('p', DISPATCH_PURPOSE_MAX);
	char			*approver = repeat('a', DISPATCH_APPROVER_MAX);
	char			*fence = repeat('f', FENCE_ID_MAX);
	char			 why[256];
	json_t			*j;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id,
	    "valid_from", "2026-10-02T09:00", "valid_to", "2026-10-02T10:30",
	    "purpose", purpose, "approver", approver, "dest_fence", fence,
	    "corridor_fence", fence);
	cr_assert_eq(dispatch_from_json(j, TZ, &so, why, sizeof(why)), 0, "%s",
	    why);
	cr_expect_str_eq(so.o.id, id);
	cr_expect_str_eq(so.purpose, purpose);
	cr_expect_str_eq(so.approver, approver);
	cr_expect_str_eq(so.o.dest_fence, fence);
	cr_expect_str_eq(so.o.corridor_fence, fence);
	json_decref(j);
	free(id);
	free(purpose);
	free(approver);
	free(fence);
}

struct bad {
	const char	*json;
	const char	*why;	/* expected in the reason */
};

static const struct bad bads[] = {
	{ "[]", "must be a JSON object" },
	{ "\"x\"", "must be a JSON object" },
	{ "{\"id\":\"a\"," WINDOW "\"foo\":1," BASE,
	  "unknown member \"foo\" in the order" },
	{ "{\"id\":\"a\"," WINDOW "\"source\":\"ctl\",\"x\":null," BASE,
	  "unknown members \"source\", \"x\"" },
	/* id */
	{ "{" WINDOW BASE, "\"id\" is missing" },
	{ "{\"id\":\"\"," WINDOW BASE, "\"id\" must be 1 to 64" },
	{ "{\"id\":\"JD 1\"," WINDOW BASE, "\"id\" must be" },
	{ "{\"id\":\"JD/1\"," WINDOW BASE, "\"id\" must be" },
	{ "{\"id\":\"JD\\\\1\"," WINDOW BASE, "\"id\" must be" },
	{ "{\"id\":\"JD\\t1\"," WINDOW BASE, "\"id\" must be" },
	{ "{\"id\":\"派车1\"," WINDOW BASE, "\"id\" must be" },
	{ "{\"id\":\"a\\u0000b\"," WINDOW BASE, "\"id\" must be" },
	{ "{\"id\":7," WINDOW BASE, "\"id\" must be" },
	{ "{\"id\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxx\"," WINDOW BASE, "\"id\" must be 1 to 64" },
	/* times */
	{ "{\"id\":\"a\",\"valid_to\":\"2026-10-02T10:30\"," BASE,
	  "\"valid_from\" is missing" },
	{ "{\"id\":\"a\",\"valid_from\":\"2026-10-02T10:30\"," BASE,
	  "\"valid_to\" is missing" },
	{ "{\"id\":\"a\",\"valid_from\":\"tomorrow\","
	  "\"valid_to\":\"2026-10-02T10:30\"," BASE,
	  "\"valid_from\": \"tomorrow\": " },
	{ "{\"id\":\"a\",\"valid_from\":1790902800000,"
	  "\"valid_to\":\"2026-10-02T10:30\"," BASE,
	  "\"valid_from\" must be a time string" },
	{ "{\"id\":\"a\",\"valid_from\":\"2026-10-02T09:00\","
	  "\"valid_to\":\"2026-02-30\"," BASE, "\"valid_to\": \"2026-02-30\"" },
	{ "{\"id\":\"a\",\"valid_from\":\"2026-10-02T09:00\","
	  "\"valid_to\":\"2026-10-02T09:00\"," BASE,
	  "\"valid_to\" must be after \"valid_from\"" },
	{ "{\"id\":\"a\",\"valid_from\":\"2026-10-02T10:30\","
	  "\"valid_to\":\"2026-10-02T09:00\"," BASE,
	  "\"valid_to\" must be after \"valid_from\"" },
	{ "{\"id\":\"a\",\"valid_from\":\"2026-10-02\","
	  "\"valid_to\":\"2026-11-02T00:00:01\"," BASE,
	  "longer than 31 days" },
	/* dest */
	{ "{\"id\":\"a\"," WINDOW "\"dest\":[104,30,300]," BASE,
	  "\"dest\" must be an object" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":104,\"radius_m\":300},"
	  BASE, "\"dest\": \"lat\" is missing" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":181,\"lat\":30,"
	  "\"radius_m\":300}," BASE, "\"dest\": \"lon\" must be between" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":104,\"lat\":-90.5,"
	  "\"radius_m\":300}," BASE, "\"dest\": \"lat\" must be between" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":104,\"lat\":30,"
	  "\"radius_m\":9.9}," BASE,
	  "\"dest\": \"radius_m\" must be between 10 and 50000" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":104,\"lat\":30,"
	  "\"radius_m\":50000.5}," BASE, "\"radius_m\" must be between" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":104,\"lat\":30}," BASE,
	  "\"dest\": \"radius_m\" is missing" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":\"104\",\"lat\":30,"
	  "\"radius_m\":300}," BASE, "\"dest\": \"lon\" must be a number" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":104,\"lat\":30,"
	  "\"radius_m\":300,\"crs\":\"utm\"}," BASE,
	  "\"crs\" must be \"wgs84\", \"cgcs2000\", \"gcj02\" or \"bd09\"" },
	{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":104,\"lat\":30,"
	  "\"radius_m\":300,\"alt\":500}," BASE,
	  "\"dest\": unknown member \"alt\"" },
	/* fences */
	{ "{\"id\":\"a\"," WINDOW "\"dest_fence\":5," BASE,
	  "\"dest_fence\" must be a string" },
	{ "{\"id\":\"a\"," WINDOW "\"corridor_fence\":\"a\\nb\"," BASE,
	  "\"corridor_fence\" contains a control character" },
	{ "{\"id\":\"a\"," WINDOW "\"dest_fence\":\"ffffffffffffffffffffffffff"
	  "fffffffffffffffffffffffffffffffffffffff\"," BASE,
	  "\"dest_fence\" must be 1 to 64 bytes long, not 65" },
	/* purpose, approver */
	{ "{\"id\":\"a\"," WINDOW "\"approver\":\"王主任\"}",
	  "\"purpose\" is missing" },
	{ "{\"id\":\"a\"," WINDOW "\"purpose\":null,\"approver\":\"王\"}",
	  "\"purpose\" is missing" },
	{ "{\"id\":\"a\"," WINDOW "\"purpose\":\"\",\"approver\":\"王\"}",
	  "\"purpose\" must be 1 to 255 bytes long, not 0" },
	{ "{\"id\":\"a\"," WINDOW "\"purpose\":\"a\\u0007\",\"approver\":\"王\"}",
	  "\"purpose\" contains a control character" },
	{ "{\"id\":\"a\"," WINDOW "\"purpose\":\"p\"}",
	  "\"approver\" is missing" },
	{ "{\"id\":\"a\"," WINDOW "\"purpose\":\"p\",\"approver\":[]}",
	  "\"approver\" must be a string" },
};

Test(dispatch, bad_orders)
{
	struct store_order	so;
	char			why[256];
	size_t			i;

	for (i = 0; i < NELEM(bads); i++) {
		why[0] = '\0';
		cr_expect_eq(from_text(bads[i].json, &so, why, sizeof(why)), -1,
		    "%zu: accepted %s", i, bads[i].json);
		cr_expect_not_null(strstr(why, bads[i].why),
		    "%zu: %s: why \"%s\", want \"%s\"", i, bads[i].json, why,
		    bads[i].why);
	}
}

Test(dispatch, too_long_texts)
{
	struct store_order	 so;
	char			*purpose = repeat('p', DISPATCH_PURPOSE_MAX + 1);
	char			*approver = repeat('a', DISPATCH_APPROVER_MAX + 1);
	char			 why[256];
	json_t			*j;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "a", "valid_from",
	    "2026-10-02T09:00", "valid_to", "2026-10-02T10:30", "purpose",
	    purpose, "approver", "王");
	cr_expect_eq(dispatch_from_json(j, TZ, &so, why, sizeof(why)), -1);
	cr_expect_str_eq(why, "\"purpose\" must be 1 to 255 bytes long, not "
	    "256");
	json_object_set_new(j, "purpose", json_string("p"));
	json_object_set_new(j, "approver", json_string(approver));
	cr_expect_eq(dispatch_from_json(j, TZ, &so, why, sizeof(why)), -1);
	cr_expect_str_eq(why, "\"approver\" must be 1 to 127 bytes long, not "
	    "128");
	/* No room for a reason: still refused, nothing written. */
	cr_expect_eq(dispatch_from_json(j, TZ, &so, NULL, 0), -1);
	json_decref(j);
	free(purpose);
	free(approver);
}

Test(dispatch, local_times_follow_the_zone)
{
	struct store_order	so;
	json_t			*j;
	char			why[256];

	j = parse("{\"id\":\"a\"," WINDOW BASE);
	cr_assert_eq(dispatch_from_json(j, "Europe/Berlin", &so, why,
	    sizeof(why)), 0, "%s", why);
	/* 09:00 CEST is 07:00Z, six hours after 09:00 in Shanghai. */
	cr_expect_eq(so.o.valid_from_ms, T0900_MS + 6 * 3600000LL);
	cr_expect_eq(so.o.valid_to_ms, T1030_MS + 6 * 3600000LL);
	json_decref(j);
}

Test(dispatch, destination_converted_to_wgs84)
{
	static const char *const crs[] = { "gcj02", "bd09" };
	struct store_order	 so;
	enum geo_crs		 c;
	double			 lon, lat;
	char			 text[512], why[256];
	size_t			 i;

	for (i = 0; i < NELEM(crs); i++) {
		snprintf(text, sizeof(text), "{\"id\":\"a\"," WINDOW
		    "\"dest\":{\"lon\":104.0665,\"lat\":30.5723,"
		    "\"radius_m\":150,\"crs\":\"%s\"}," BASE, crs[i]);
		cr_assert_eq(from_text(text, &so, why, sizeof(why)), 0, "%s",
		    why);
		cr_assert_eq(geo_crs_parse(crs[i], &c), 0);
		geo_to_wgs84(c, 104.0665, 30.5723, &lon, &lat);
		cr_expect_float_eq(so.o.dest_lon, lon, 1e-12, "%s", crs[i]);
		cr_expect_float_eq(so.o.dest_lat, lat, 1e-12, "%s", crs[i]);
		/* The offsets are hundreds of metres in Chengdu. */
		cr_expect_gt(fabs(so.o.dest_lon - 104.0665), 1e-3, "%s",
		    crs[i]);
	}
}

/*
 * What from_json() accepts, to_json() can show and from_json() reads
 * back (found by fuzz_dispatch): BD-09's shift carries points at the
 * edge of the map out of range in WGS-84, and an offset carries a time
 * of year 9999 into year 10000 in the zone.
 */
Test(dispatch, accepted_orders_can_be_shown)
{
	static const struct {
		const char	*json;
		const char	*why;
	} cases[] = {
		{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":-180,\"lat\":0,"
		  "\"radius_m\":10,\"crs\":\"bd09\"}," BASE,
		  "\"dest\": the point is out of range in WGS-84" },
		{ "{\"id\":\"a\"," WINDOW "\"dest\":{\"lon\":0,\"lat\":-90,"
		  "\"radius_m\":10,\"crs\":\"bd09\"}," BASE,
		  "\"dest\": the point is out of range in WGS-84" },
		{ "{\"id\":\"a\",\"valid_from\":\"9999-12-31T23:00+00:00\","
		  "\"valid_to\":\"9999-12-31T23:30+00:00\"," BASE,
		  "\"valid_from\": \"9999-12-31T23:00+00:00\": out of range in "
		  "zone Asia/Shanghai" },
	};
	struct store_order	 so;
	char			 why[256];
	json_t			*j;
	size_t			 i;

	for (i = 0; i < NELEM(cases); i++) {
		why[0] = '\0';
		cr_expect_eq(from_text(cases[i].json, &so, why, sizeof(why)),
		    -1, "%zu: accepted %s", i, cases[i].json);
		cr_expect_str_eq(why, cases[i].why, "%zu", i);
	}
	/* The last moment that can be shown in Shanghai is fine. */
	cr_assert_eq(from_text("{\"id\":\"a\","
	    "\"valid_from\":\"9999-12-31T15:00+00:00\","
	    "\"valid_to\":\"9999-12-31T23:59:59\"," BASE, &so, why,
	    sizeof(why)), 0, "%s", why);
	j = dispatch_to_json(&so, TZ);
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "valid_to")),
	    "9999-12-31T23:59:59+08:00");
	json_decref(j);
}

Test(dispatch, id_valid)
{
	cr_expect_eq(dispatch_id_valid("JD-20261002-01"), 0);
	cr_expect_eq(dispatch_id_valid("a"), 0);
	cr_expect_eq(dispatch_id_valid(""), -1);
	cr_expect_eq(dispatch_id_valid(NULL), -1);
	cr_expect_eq(dispatch_id_valid("a b"), -1);
	cr_expect_eq(dispatch_id_valid("a/b"), -1);
	cr_expect_eq(dispatch_id_valid("a\\b"), -1);
	cr_expect_eq(dispatch_id_valid("a\x7f"), -1);
	cr_expect_eq(dispatch_id_valid("派"), -1);
}

static struct store_order
sample_order(void)
{
	struct store_order	so;

	memset(&so, 0, sizeof(so));
	util_strlcpy(so.o.id, "JD-20261002-01", sizeof(so.o.id));
	so.o.valid_from_ms = T0900_MS;
	so.o.valid_to_ms = T1030_MS;
	so.o.has_dest_point = true;
	so.o.dest_lon = 104.07200000049;
	so.o.dest_lat = 30.5575;
	so.o.dest_radius_m = 300;
	util_strlcpy(so.o.dest_fence, "lot-a", sizeof(so.o.dest_fence));
	util_strlcpy(so.purpose, "国庆假期值班巡查", sizeof(so.purpose));
	util_strlcpy(so.approver, "王主任", sizeof(so.approver));
	util_strlcpy(so.source, "ctl", sizeof(so.source));
	so.created_utc_ms = CREATED_MS;
	return so;
}

Test(dispatch, to_json_members_in_order)
{
	struct store_order	 so = sample_order();
	json_t			*j;
	char			*s;

	j = dispatch_to_json(&so, TZ);
	cr_assert_not_null(j);
	s = json_dumps(j, DISPATCH_DUMP_FLAGS);
	cr_assert_str_eq(s,
	    "{\"id\":\"JD-20261002-01\","
	    "\"valid_from\":\"2026-10-02T09:00:00+08:00\","
	    "\"valid_to\":\"2026-10-02T10:30:00+08:00\","
	    "\"dest\":{\"lon\":104.072,\"lat\":30.5575,\"radius_m\":300.0},"
	    "\"dest_fence\":\"lot-a\",\"corridor_fence\":null,"
	    "\"purpose\":\"国庆假期值班巡查\",\"approver\":\"王主任\","
	    "\"source\":\"ctl\",\"created\":\"2026-03-02T16:31:05+08:00\"}");
	free(s);
	json_decref(j);

	/* Nothing optional: nulls. */
	so.o.has_dest_point = false;
	so.o.dest_fence[0] = '\0';
	so.source[0] = '\0';
	so.created_utc_ms = 0;
	j = dispatch_to_json(&so, TZ);
	cr_assert_not_null(j);
	cr_expect(json_is_null(json_object_get(j, "dest")));
	cr_expect(json_is_null(json_object_get(j, "dest_fence")));
	cr_expect(json_is_null(json_object_get(j, "source")));
	cr_expect(json_is_null(json_object_get(j, "created")));
	cr_expect_eq(json_object_size(j), 10);
	json_decref(j);

	cr_expect_null(dispatch_to_json(&so, "No/Such_Zone"));
}

/* What to_json gives, less the daemon's members, reads back the same. */
Test(dispatch, round_trip)
{
	struct store_order	 so = sample_order(), back;
	json_t			*j;
	char			 why[256];

	util_strlcpy(so.o.corridor_fence, "cd-1", sizeof(so.o.corridor_fence));
	j = dispatch_to_json(&so, TZ);
	cr_assert_not_null(j);
	json_object_del(j, "source");
	json_object_del(j, "created");
	cr_assert_eq(dispatch_from_json(j, "UTC", &back, why, sizeof(why)), 0,
	    "%s", why);
	cr_expect_str_eq(back.o.id, so.o.id);
	cr_expect_eq(back.o.valid_from_ms, so.o.valid_from_ms);
	cr_expect_eq(back.o.valid_to_ms, so.o.valid_to_ms);
	cr_expect(back.o.has_dest_point);
	cr_expect_float_eq(back.o.dest_lon, 104.072, 1e-12);
	cr_expect_float_eq(back.o.dest_lat, so.o.dest_lat, 1e-12);
	cr_expect_float_eq(back.o.dest_radius_m, so.o.dest_radius_m, 1e-12);
	cr_expect_str_eq(back.o.dest_fence, "lot-a");
	cr_expect_str_eq(back.o.corridor_fence, "cd-1");
	cr_expect_str_eq(back.purpose, so.purpose);
	cr_expect_str_eq(back.approver, so.approver);
	json_decref(j);
}

/* Listings. */

static char *
render(const struct store_order *orders, size_t n, bool json)
{
	struct dispatch_list	 l;
	char			*buf = NULL;
	size_t			 len = 0, i;
	FILE			*fp;

	fp = open_memstream(&buf, &len);
	cr_assert_not_null(fp);
	dispatch_list_begin(&l, fp, TZ, json);
	for (i = 0; i < n; i++)
		cr_assert_eq(dispatch_list_add(&l, &orders[i]), 0);
	cr_assert_eq(dispatch_list_end(&l), 0);
	fclose(fp);
	return buf;
}

static void
two_orders(struct store_order o[2])
{
	o[0] = sample_order();
	o[0].o.dest_lon = 104.072;
	o[0].o.dest_fence[0] = '\0';
	memset(&o[1], 0, sizeof(o[1]));
	util_strlcpy(o[1].o.id, "X1", sizeof(o[1].o.id));
	o[1].o.valid_from_ms = T0900_MS + 30000;
	o[1].o.valid_to_ms = T0900_MS + 33 * 3600000LL;
	util_strlcpy(o[1].o.dest_fence, "lot-a", sizeof(o[1].o.dest_fence));
	util_strlcpy(o[1].o.corridor_fence, "cd-1",
	    sizeof(o[1].o.corridor_fence));
	util_strlcpy(o[1].purpose, "Inspection of the municipal construction "
	    "sites on Fucheng Avenue", sizeof(o[1].purpose));
	util_strlcpy(o[1].approver, "Li", sizeof(o[1].approver));
}

Test(dispatch, text_table_aligned)
{
	struct store_order	 o[2];
	char			*s;

	two_orders(o);
	s = render(o, 2, false);
	cr_assert_str_eq(s,
"ID              FROM                 TO                DEST                        PURPOSE                                   APPROVER  SOURCE\n"
"JD-20261002-01  2026-10-02 09:00     2026-10-02 10:30  104.07200,30.55750 r=300 m  国庆假期值班巡查                          王主任    ctl\n"
"X1              2026-10-02 09:00:30  2026-10-03 18:00  fence lot-a, corridor cd-1  Inspection of the municipal construct...  Li        -\n"
"2 orders\n");
	free(s);

	s = render(o, 1, false);
	cr_expect_not_null(strstr(s, "\n1 order\n"), "%s", s);
	free(s);
	s = render(o, 0, false);
	cr_expect_str_eq(s, "no orders\n");
	free(s);
}

Test(dispatch, text_table_control_characters_masked)
{
	struct store_order	 o[2];
	char			*s;

	two_orders(o);
	util_strlcpy(o[1].approver, "Li\x1b[31m", sizeof(o[1].approver));
	s = render(o, 2, false);
	cr_expect_null(strchr(s, '\x1b'));
	cr_expect_not_null(strstr(s, "Li?[31m"), "%s", s);
	free(s);
}

Test(dispatch, json_listing_one_array)
{
	struct store_order	 o[2];
	json_t			*j;
	char			*s;

	two_orders(o);
	s = render(o, 2, true);
	j = parse(s);
	cr_assert(json_is_array(j));
	cr_expect_eq(json_array_size(j), 2);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(j,
	    1), "valid_from")), "2026-10-02T09:00:30+08:00");
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(j,
	    1), "corridor_fence")), "cd-1");
	json_decref(j);
	free(s);
	s = render(o, 0, true);
	cr_expect_str_eq(s, "[]\n");
	free(s);
}
