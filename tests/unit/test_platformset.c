/* SPDX-License-Identifier: MIT */
/*
 * test_platformset.c - what the platform's set_fences and set_calendar
 * leave beside the database: the path next to storage.path, the stored
 * fences added to the configuration's (clashing ids and bad features
 * refused with the reason), the stored holidays and adjusted workdays
 * added to the calendar (dates the configuration lists left to it, bad
 * dates refused), atomic saving; plus the pure parsers of platform
 * replies in sync.h (acked_through, rejected records, the holds of a
 * bundle, commands).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "calendar.h"
#include "chain.h"
#include "config.h"
#include "fence.h"
#include "platformset.h"
#include "sync.h"

static char	 dir[64];

static void
setup(void)
{
	strcpy(dir, "/tmp/fleetgw-platformset.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(platformset, .init = setup, .fini = teardown, .timeout = 30);

static void
write_file(const char *name, const char *text)
{
	char	path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert(fputs(text, f) >= 0);
	cr_assert_eq(fclose(f), 0);
}

/* A configuration with one office circle and 2026-10-01 as a holiday. */
static struct config *
load(void)
{
	struct config_errors	 errs = { 0, NULL };
	struct config		*c;
	char			 text[1024], path[256];

	snprintf(text, sizeof(text),
	    "device = { id = \"SC-0001\"; };\n"
	    "storage = { path = \"%s/fleetgw.db\"; };\n"
	    "calendar = { holidays = [ \"2026-10-01 国庆节\" ]; };\n"
	    "fences = ( { id = \"office\"; kind = \"office\"; circle = { "
	    "center = [ 104.0665, 30.5723 ]; radius_m = 150.0; }; } );\n", dir);
	write_file("fleetgw.conf", text);
	snprintf(path, sizeof(path), "%s/fleetgw.conf", dir);
	c = config_load(path, &errs);
	cr_assert_not_null(c, "%s", errs.n > 0 ? errs.lines[0] : "?");
	return c;
}

Test(platformset, path_beside_the_database)
{
	struct config	*c = load();
	char		*p = platformset_path(c, PLATFORMSET_FENCES);
	char		 want[256];

	snprintf(want, sizeof(want), "%s/platform-fences.geojson", dir);
	cr_assert_str_eq(p, want);
	free(p);
	config_free(c);
}



Test(platformset, fences_added_to_the_configuration)
{
	struct config		*c = load();
	struct config_errors	 errs, warns;
	struct fence_set	*set;
	char			*p, why[128];
	const char		*fc = "{\"type\":\"FeatureCollection\","
	    "\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":"
	    "\"ktv-p1\",\"kind\":\"forbidden\",\"category\":\"entertainment\","
	    "\"radius_m\":80},\"geometry\":{\"type\":\"Point\","
	    "\"coordinates\":[104.08,30.63]}}]}";


	/* Nothing stored yet: the configuration's only. */
	set = platformset_fences(c, NULL, &errs, &warns);
	cr_assert_not_null(set);
	cr_assert_eq(fence_set_count(set), 1);
	fence_set_free(set);
	config_errors_free(&errs);
	config_errors_free(&warns);
	p = platformset_path(c, PLATFORMSET_FENCES);
	cr_assert_eq(platformset_save(p, fc, strlen(fc), why, sizeof(why)), 0,
	    "%s", why);
	set = platformset_fences(c, NULL, &errs, &warns);
	cr_assert_not_null(set, "%s", errs.n > 0 ? errs.lines[0] : "?");
	cr_assert_eq(fence_set_count(set), 2);
	cr_assert_geq(fence_set_find(set, "ktv-p1"), 0);
	cr_assert_geq(fence_set_find(set, "office"), 0);
	fence_set_free(set);
	config_errors_free(&errs);
	config_errors_free(&warns);
	free(p);
	config_free(c);
}

Test(platformset, fences_refused_with_the_reason)
{
	struct config		*c = load();
	struct config_errors	 errs, warns;
	char			 path[256];

	/* The id clashes with the configuration's office. */
	write_file("clash.geojson", "{\"type\":\"FeatureCollection\","
	    "\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":"
	    "\"office\",\"kind\":\"office\",\"radius_m\":50},\"geometry\":"
	    "{\"type\":\"Point\",\"coordinates\":[104.0,30.6]}}]}");
	snprintf(path, sizeof(path), "%s/clash.geojson", dir);
	cr_assert_null(platformset_fences(c, path, &errs, &warns));
	cr_assert_gt(errs.n, 0);
	cr_assert_not_null(strstr(errs.lines[0], "office"), "%s",
	    errs.lines[0]);
	config_errors_free(&errs);
	config_errors_free(&warns);
	/* A feature without a kind (the platform entry has none). */
	write_file("nokind.geojson", "{\"type\":\"FeatureCollection\","
	    "\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":"
	    "\"x\",\"radius_m\":50},\"geometry\":{\"type\":\"Point\","
	    "\"coordinates\":[104.0,30.6]}}]}");
	snprintf(path, sizeof(path), "%s/nokind.geojson", dir);
	cr_assert_null(platformset_fences(c, path, &errs, &warns));
	cr_assert_gt(errs.n, 0);
	config_errors_free(&errs);
	config_errors_free(&warns);
	config_free(c);
}

static enum calendar_day
kind(const struct calendar *cal, int y, int m, int d)
{
	struct calendar_date	date = { y, m, d };

	return calendar_day_kind(cal, &date, NULL);
}

Test(platformset, calendar_dates_added)
{
	struct config	*c = load();
	struct calendar	*cal, *plain;
	json_t		*obj;
	json_error_t	 jerr;
	size_t		 n[3];
	char		 why[256];

	plain = platformset_calendar(c, NULL, n, why, sizeof(why));
	cr_assert_not_null(plain, "%s", why);
	cr_assert_eq(n[0] + n[1] + n[2], 0);
	/* 2026-12-28 (a Monday) off, 2026-12-27 (a Sunday) worked, and
	 * 2026-10-01, which the configuration lists already. */
	obj = json_loads("{\"holidays\":[\"2026-12-28\",\"2026-10-01\"],"
	    "\"extra_workdays\":[\"2026-12-27\"]}", 0, &jerr);
	cal = platformset_calendar(c, obj, n, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	cr_assert_eq(n[0], 1);
	cr_assert_eq(n[1], 1);
	cr_assert_eq(n[2], 1);
	cr_assert_neq(kind(cal, 2026, 12, 28), kind(plain, 2026, 12, 28));
	cr_assert_neq(kind(cal, 2026, 12, 27), kind(plain, 2026, 12, 27));
	cr_assert_eq(kind(cal, 2026, 10, 1), kind(plain, 2026, 10, 1));
	calendar_free(cal);
	calendar_free(plain);
	json_decref(obj);
	config_free(c);
}

Test(platformset, calendar_stored_and_bad_input)
{
	struct config	*c = load();
	struct calendar	*cal;
	json_t		*obj;
	json_error_t	 jerr;
	size_t		 n[3];
	char		 why[256], *p;
	static const char *const bad[] = {
		"{\"holidays\":[\"2026-02-30\"]}",
		"{\"holidays\":\"2026-12-28\"}",
		"{\"holidays\":[20261228]}",
		"{\"weekends\":[]}",
		"[]",
	};
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		obj = json_loads(bad[i], JSON_DECODE_ANY, &jerr);
		cr_assert_not_null(obj);
		why[0] = '\0';
		cr_assert_null(platformset_calendar(c, obj, n, why,
		    sizeof(why)), "%s accepted", bad[i]);
		cr_assert_neq(why[0], '\0');
		json_decref(obj);
	}
	p = platformset_path(c, PLATFORMSET_CALENDAR);
	cr_assert_eq(platformset_save(p, "{\"holidays\":[\"2026-12-28\"]}",
	    27, why, sizeof(why)), 0, "%s", why);
	cal = platformset_calendar(c, NULL, n, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	cr_assert_eq(n[0], 1);
	calendar_free(cal);
	/* A damaged stored file: refused with its name, not ignored. */
	cr_assert_eq(platformset_save(p, "{\"holidays\":[", 13, why,
	    sizeof(why)), 0);
	cr_assert_null(platformset_calendar(c, NULL, n, why, sizeof(why)));
	cr_assert_not_null(strstr(why, "platform-calendar.json"), "%s", why);
	free(p);
	config_free(c);
}

Test(platformset, save_replaces_atomically)
{
	char	path[256], tmp[300], buf[64], why[128];
	FILE	*f;
	size_t	n;

	snprintf(path, sizeof(path), "%s/x.json", dir);
	cr_assert_eq(platformset_save(path, "first", 5, why, sizeof(why)), 0);
	cr_assert_eq(platformset_save(path, "second", 6, why, sizeof(why)), 0);
	cr_assert_not_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_assert_str_eq(buf, "second");
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	cr_assert_neq(access(tmp, F_OK), 0, "temporary file left behind");
	snprintf(path, sizeof(path), "%s/no/such/dir/x.json", dir);
	cr_assert_eq(platformset_save(path, "x", 1, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "no/such/dir"), "%s", why);
}

Test(platformset, parse_ack)
{
	struct sync_ack	a;
	char		why[128];
	const char	*ok = "{\"stream\":\"events\",\"acked_through\":42,"
	    "\"rejected\":[{\"seq\":40,\"reason\":\"bad\"},{\"seq\":0},"
	    "{\"seq\":\"41\"},{\"seq\":41}]}";

	cr_assert_eq(sync_parse_ack(ok, strlen(ok), "events", &a, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(a.acked_through, 42);
	cr_assert_eq(a.nrejected, 2);
	cr_assert_eq(a.rejected[0].seq, 40);
	cr_assert_str_eq(a.rejected[0].reason, "bad");
	cr_assert_eq(a.rejected[1].seq, 41);
	cr_assert_str_eq(a.rejected[1].reason, "");
	cr_assert_eq(sync_parse_ack(ok, strlen(ok), "positions", &a, why,
	    sizeof(why)), -1);
	cr_assert_eq(sync_parse_ack("{\"stream\":\"events\"}", 19, "events",
	    &a, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "acked_through"), "%s", why);
	cr_assert_eq(sync_parse_ack("{\"stream\":\"events\",\"acked_through\":"
	    "-3}", 36, "events", &a, why, sizeof(why)), -1);
	cr_assert_eq(sync_parse_ack("<html>", 6, "events", &a, why,
	    sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "not JSON"), "%s", why);
	cr_assert_eq(sync_parse_ack(NULL, 0, "events", &a, why, sizeof(why)),
	    -1);
}

#define HOLDS_HEX	"00ff10aB3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f" \
	    "708192a3b4c5d6e7"
#define HOLDS_HEX62	"00ff10aB3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f" \
	    "708192a3b4c5d6"

Test(platformset, parse_ack_holds)
{
	struct sync_ack	a;
	char		why[128];
	unsigned char	h[CHAIN_HASH_LEN];
	char		buf[512];
	size_t		i;
	/* Each: a "holds" that is not usable. */
	const char	*bad[] = {
		"{\"seq\":0,\"h\":\"" HOLDS_HEX "\"}",
		"{\"seq\":-5,\"h\":\"" HOLDS_HEX "\"}",
		"{\"seq\":\"9\",\"h\":\"" HOLDS_HEX "\"}",
		"{\"seq\":9.5,\"h\":\"" HOLDS_HEX "\"}",
		"{\"seq\":9,\"h\":\"" HOLDS_HEX62 "\"}",		/* short */
		"{\"seq\":9,\"h\":\"" HOLDS_HEX "00\"}",	/* long */
		"{\"seq\":9,\"h\":\"" HOLDS_HEX62 "0g\"}",	/* not hex */
		"{\"seq\":9,\"h\":null}",
		"{\"seq\":9}",
		"[9, \"" HOLDS_HEX "\"]",
		"\"" HOLDS_HEX "\"",
		"true",
	};

	/* Without holds (or null): none. */
	strcpy(buf, "{\"stream\":\"positions\",\"acked_through\":7}");
	cr_assert_eq(sync_parse_ack(buf, strlen(buf), "positions", &a, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(a.holds, SYNC_HOLDS_NONE);
	strcpy(buf, "{\"stream\":\"positions\",\"acked_through\":7,"
	    "\"holds\":null}");
	cr_assert_eq(sync_parse_ack(buf, strlen(buf), "positions", &a, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(a.holds, SYNC_HOLDS_NONE);

	strcpy(buf, "{\"stream\":\"positions\",\"acked_through\":500,"
	    "\"rejected\":[],\"holds\":{\"seq\":3042,\"h\":\"" HOLDS_HEX
	    "\"}}");
	cr_assert_eq(sync_parse_ack(buf, strlen(buf), "positions", &a, why,
	    sizeof(why)), 0, "%s", why);
	cr_assert_eq(a.acked_through, 500);
	cr_assert_eq(a.holds, SYNC_HOLDS_OK);
	cr_assert_eq(a.holds_seq, 3042);
	cr_assert_eq(chain_unhex(HOLDS_HEX, h), 0);
	cr_assert_arr_eq(a.holds_h, h, sizeof(h));
	cr_assert_eq(a.holds_h[0], 0x00);
	cr_assert_eq(a.holds_h[1], 0xff);
	cr_assert_eq(a.holds_h[3], 0xab, "upper-case hex is read too");

	/* A bad holds is flagged; the acknowledgement still counts. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"stream\":\"events\","
		    "\"acked_through\":12,\"holds\":%s}", bad[i]);
		cr_assert_eq(sync_parse_ack(buf, strlen(buf), "events", &a, why,
		    sizeof(why)), 0, "%s: %s", buf, why);
		cr_assert_eq(a.acked_through, 12, "%s", buf);
		cr_assert_eq(a.holds, SYNC_HOLDS_BAD, "%s", buf);
		cr_assert_eq(a.holds_seq, 0, "%s", buf);
	}
	/* Holds do not make a reply without acked_through acceptable. */
	strcpy(buf, "{\"stream\":\"events\",\"holds\":{\"seq\":3,"
	    "\"h\":\"" HOLDS_HEX "\"}}");
	cr_assert_eq(sync_parse_ack(buf, strlen(buf), "events", &a, why,
	    sizeof(why)), -1);
	cr_assert_eq(a.holds, SYNC_HOLDS_NONE);
}

Test(platformset, parse_command)
{
	json_t		*cmds;
	json_error_t	 jerr;
	const char	*id, *type;
	const json_t	*args;
	char		 why[128];

	cmds = json_loads("[{\"id\":\"c-1\",\"type\":\"locate\"},"
	    "{\"id\":\"c-2\",\"type\":\"resend\",\"args\":{\"stream\":\"x\"}},"
	    "{\"id\":\"c-3\",\"type\":\"status\",\"args\":[1]},"
	    "{\"type\":\"status\"},"
	    "{\"id\":\"c-5\",\"type\":\"\"}]", 0, &jerr);
	cr_assert_not_null(cmds);
	cr_assert_eq(sync_parse_command(json_array_get(cmds, 0), &id, &type,
	    &args, why, sizeof(why)), 0);
	cr_assert_str_eq(id, "c-1");
	cr_assert_str_eq(type, "locate");
	cr_assert_null(args);
	cr_assert_eq(sync_parse_command(json_array_get(cmds, 1), &id, &type,
	    &args, why, sizeof(why)), 0);
	cr_assert(json_is_object(args));
	/* Bad args: refused, but the id is there for an error result. */
	cr_assert_eq(sync_parse_command(json_array_get(cmds, 2), &id, &type,
	    &args, why, sizeof(why)), -1);
	cr_assert_str_eq(id, "c-3");
	cr_assert_not_null(strstr(why, "args"), "%s", why);
	cr_assert_eq(sync_parse_command(json_array_get(cmds, 3), &id, &type,
	    &args, why, sizeof(why)), -1);
	cr_assert_null(id);
	cr_assert_eq(sync_parse_command(json_array_get(cmds, 4), &id, &type,
	    &args, why, sizeof(why)), -1);
	cr_assert_not_null(strstr(why, "type"), "%s", why);
	json_decref(cmds);
}
