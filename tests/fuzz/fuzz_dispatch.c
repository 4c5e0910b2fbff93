/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dispatch.c - libFuzzer target: a dispatch order (派车单) object as
 * the control socket's dispatch_add request carries it, through
 * dispatch_from_json() in zone Asia/Shanghai, then dispatch_to_json() and
 * both listings (dispatch_list_*(), text table and JSON array).
 *
 * Input: the JSON text of the order (json_loadb(), flags 0, as the
 * control socket reads a request).
 *
 * Checked besides the sanitizers (a violation aborts), from dispatch.h
 * and store.h:
 *  - dispatch_from_json() returns 0 or -1, and -1 with a reason;
 *  - an accepted order is one store_order_add() takes: a valid id,
 *    valid_to after valid_from by at most DISPATCH_WINDOW_MAX_S, a point
 *    in range with a radius in DISPATCH_RADIUS_MIN_M..MAX_M, purpose,
 *    approver and fence ids of allowed lengths without control
 *    characters, source "" and created 0;
 *  - dispatch_to_json() gives an object of the documented members, and
 *    that object less "source" and "created" (which the daemon adds),
 *    dumped with DISPATCH_DUMP_FLAGS and read back, is accepted again and
 *    gives the same order (the point to the 7 decimals and 0.1 m that
 *    to_json() keeps) and the same object;
 *  - the text listing and the JSON listing of the order (with a source
 *    and a created time) succeed, the text ends in "1 order" and the
 *    JSON listing is an array holding to_json()'s object.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dispatch.h"
#include "fence.h"
#include "rules.h"
#include "store.h"

#define TZ		"Asia/Shanghai"
#define COORD_ULP	0.5e-7		/* to_json(): 7 decimals */
#define RADIUS_ULP	0.05		/* to_json(): 0.1 m */
#define CREATED_MS	INT64_C(1772440265000)	/* 2026-03-02T16:31:05+08 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__asan_default_options(void);

/*
 * jansson makes many small allocations, and ASan's quarantine counts only
 * their requested bytes: its default 256 MB held over 450 MB of chunks
 * and a long run reached -rss_limit_mb=512.  ASAN_OPTIONS still wins.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=64";
}

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* A text as text_member() accepts it: min..max bytes, no controls. */
static bool
text_ok(const char *s, size_t min, size_t max)
{
	size_t	len = strlen(s), i;

	if (len < min || len > max)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void
check_order(const struct store_order *so)
{
	const struct rules_order *o = &so->o;

	CHECK(memchr(o->id, '\0', sizeof(o->id)) != NULL);
	CHECK(dispatch_id_valid(o->id) == 0);
	CHECK(o->valid_to_ms > o->valid_from_ms);
	CHECK(o->valid_to_ms - o->valid_from_ms <=
	    (int64_t)DISPATCH_WINDOW_MAX_S * 1000);
	if (o->has_dest_point) {
		CHECK(o->dest_lon >= -180.0 && o->dest_lon <= 180.0);
		CHECK(o->dest_lat >= -90.0 && o->dest_lat <= 90.0);
		CHECK(o->dest_radius_m >= DISPATCH_RADIUS_MIN_M &&
		    o->dest_radius_m <= DISPATCH_RADIUS_MAX_M);
	}
	CHECK(text_ok(o->dest_fence, 0, FENCE_ID_MAX));
	CHECK(text_ok(o->corridor_fence, 0, FENCE_ID_MAX));
	CHECK(text_ok(so->purpose, 1, DISPATCH_PURPOSE_MAX));
	CHECK(text_ok(so->approver, 1, DISPATCH_APPROVER_MAX));
	CHECK(so->source[0] == '\0' && so->created_utc_ms == 0);
}

static void
check_same(const struct store_order *a, const struct store_order *b)
{
	CHECK(strcmp(a->o.id, b->o.id) == 0);
	CHECK(a->o.valid_from_ms == b->o.valid_from_ms);
	CHECK(a->o.valid_to_ms == b->o.valid_to_ms);
	CHECK(a->o.has_dest_point == b->o.has_dest_point);
	if (a->o.has_dest_point) {
		CHECK(fabs(a->o.dest_lon - b->o.dest_lon) <= COORD_ULP * 1.01);
		CHECK(fabs(a->o.dest_lat - b->o.dest_lat) <= COORD_ULP * 1.01);
		CHECK(fabs(a->o.dest_radius_m - b->o.dest_radius_m) <=
		    RADIUS_ULP * 1.01);
	}
	CHECK(strcmp(a->o.dest_fence, b->o.dest_fence) == 0);
	CHECK(strcmp(a->o.corridor_fence, b->o.corridor_fence) == 0);
	CHECK(strcmp(a->purpose, b->purpose) == 0);
	CHECK(strcmp(a->approver, b->approver) == 0);
}

static void
check_listings(const struct store_order *so, const json_t *obj)
{
	struct dispatch_list	 l;
	json_t			*arr;
	json_error_t		 jerr;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;
	int			 json;

	for (json = 0; json <= 1; json++) {
		if ((fp = open_memstream(&buf, &len)) == NULL)
			abort();
		dispatch_list_begin(&l, fp, TZ, json);
		CHECK(dispatch_list_add(&l, so) == 0);
		CHECK(dispatch_list_end(&l) == 0);
		CHECK(fclose(fp) == 0);
		if (!json) {
			CHECK(len >= 8 &&
			    strcmp(buf + len - 8, "1 order\n") == 0);
		} else {
			arr = json_loadb(buf, len, 0, &jerr);
			CHECK(json_is_array(arr) && json_array_size(arr) == 1);
			CHECK(json_equal(json_array_get(arr, 0), obj));
			json_decref(arr);
		}
		free(buf);
		buf = NULL;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_order	 so, back, listed;
	json_t			*in, *out, *again, *out2;
	json_error_t		 jerr;
	char			 why[256], *text;
	int			 rc;

	if ((in = json_loadb((const char *)data, size, 0, &jerr)) == NULL)
		return 0;
	memset(why, 0, sizeof(why));
	rc = dispatch_from_json(in, TZ, &so, why, sizeof(why));
	json_decref(in);
	CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		CHECK(why[0] != '\0' && memchr(why, '\0', sizeof(why)) != NULL);
		return 0;
	}
	check_order(&so);

	/* An accepted order can be shown and read back. */
	out = dispatch_to_json(&so, TZ);
	CHECK(json_is_object(out) && json_object_size(out) == 10);
	CHECK(json_is_null(json_object_get(out, "source")));
	CHECK(json_is_null(json_object_get(out, "created")));
	CHECK(json_object_del(out, "source") == 0);
	CHECK(json_object_del(out, "created") == 0);
	text = json_dumps(out, DISPATCH_DUMP_FLAGS);
	CHECK(text != NULL);
	again = json_loads(text, 0, &jerr);
	free(text);
	CHECK(again != NULL);
	why[0] = '\0';
	if (dispatch_from_json(again, TZ, &back, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_dispatch: round trip refused: %s\n", why);
		abort();
	}
	json_decref(again);
	check_order(&back);
	check_same(&so, &back);
	out2 = dispatch_to_json(&back, TZ);
	CHECK(out2 != NULL);
	CHECK(json_object_del(out2, "source") == 0);
	CHECK(json_object_del(out2, "created") == 0);
	CHECK(json_equal(out, out2));
	json_decref(out);
	json_decref(out2);

	/* As the store gives it back: with source and created. */
	listed = so;
	snprintf(listed.source, sizeof(listed.source), "platform");
	listed.created_utc_ms = CREATED_MS;
	out = dispatch_to_json(&listed, TZ);
	CHECK(out != NULL);
	CHECK(strcmp(json_string_value(json_object_get(out, "source")),
	    "platform") == 0);
	CHECK(json_is_string(json_object_get(out, "created")));
	check_listings(&listed, out);
	json_decref(out);
	return 0;
}
