/* SPDX-License-Identifier: MIT */
/*
 * test_timefmt.c - RFC 3339 formatting and `T' parsing in IANA zones.
 *
 * Expected instants are computed with glibc's timegm(), independently of
 * timefmt's own calendar arithmetic.  Zones: Asia/Shanghai (no DST today,
 * DST 1986-1991), Europe/Berlin (DST), America/Havana and America/Santiago
 * (DST changes at midnight), Pacific/Apia (skipped 2011-12-30).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"
#include "util.h"

#define NO_RESULT	INT64_MIN

static int64_t
utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

struct fmt_case {
	int64_t		 t_ms;
	const char	*tz;
	const char	*want;		/* NULL: must fail */
};

Test(timefmt, format_table)
{
	const struct fmt_case cases[] = {
		{ 0, "UTC", "1970-01-01T00:00:00+00:00" },
		{ 0, "Asia/Shanghai", "1970-01-01T08:00:00+08:00" },
		{ -1, "UTC", "1969-12-31T23:59:59.999+00:00" },
		{ utc_ms(2026, 3, 2, 13, 14, 5, 0), "Asia/Shanghai",
		    "2026-03-02T21:14:05+08:00" },
		{ utc_ms(2026, 3, 2, 13, 14, 5, 250), "Asia/Shanghai",
		    "2026-03-02T21:14:05.250+08:00" },
		{ utc_ms(2026, 3, 2, 13, 14, 5, 1), "Asia/Shanghai",
		    "2026-03-02T21:14:05.001+08:00" },
		{ utc_ms(2026, 3, 2, 13, 14, 5, 999), "Asia/Shanghai",
		    "2026-03-02T21:14:05.999+08:00" },
		/* Day and year roll-over in the zone. */
		{ utc_ms(2025, 12, 31, 16, 0, 0, 0), "Asia/Shanghai",
		    "2026-01-01T00:00:00+08:00" },
		{ utc_ms(2025, 12, 31, 15, 59, 59, 0), "Asia/Shanghai",
		    "2025-12-31T23:59:59+08:00" },
		{ utc_ms(2024, 2, 28, 16, 0, 0, 0), "Asia/Shanghai",
		    "2024-02-29T00:00:00+08:00" },
		/* China observed DST 1986-1991. */
		{ utc_ms(1990, 7, 1, 0, 0, 0, 0), "Asia/Shanghai",
		    "1990-07-01T09:00:00+09:00" },
		/* Berlin: spring forward at 01:00Z, fall back at 01:00Z. */
		{ utc_ms(2026, 3, 29, 0, 59, 59, 0), "Europe/Berlin",
		    "2026-03-29T01:59:59+01:00" },
		{ utc_ms(2026, 3, 29, 1, 0, 0, 0), "Europe/Berlin",
		    "2026-03-29T03:00:00+02:00" },
		{ utc_ms(2026, 10, 25, 0, 59, 59, 0), "Europe/Berlin",
		    "2026-10-25T02:59:59+02:00" },
		{ utc_ms(2026, 10, 25, 1, 0, 0, 0), "Europe/Berlin",
		    "2026-10-25T02:00:00+01:00" },
		{ utc_ms(2026, 1, 15, 12, 0, 0, 0), "America/New_York",
		    "2026-01-15T07:00:00-05:00" },
		{ utc_ms(2026, 1, 15, 12, 0, 0, 0), "Asia/Kathmandu",
		    "2026-01-15T17:45:00+05:45" },
		{ utc_ms(2026, 1, 15, 12, 0, 0, 0), "Asia/Kolkata",
		    "2026-01-15T17:30:00+05:30" },
		{ utc_ms(2011, 12, 30, 9, 59, 59, 0), "Pacific/Apia",
		    "2011-12-29T23:59:59-10:00" },
		{ utc_ms(2011, 12, 30, 10, 0, 0, 0), "Pacific/Apia",
		    "2011-12-31T00:00:00+14:00" },
		/* Range ends. */
		{ utc_ms(9999, 12, 31, 23, 59, 59, 999), "UTC",
		    "9999-12-31T23:59:59.999+00:00" },
		{ utc_ms(9999, 12, 31, 23, 59, 59, 999), "Asia/Shanghai",
		    NULL },
		{ utc_ms(1, 1, 1, 0, 0, 0, 0), "UTC",
		    "0001-01-01T00:00:00+00:00" },
		{ -62167219200000LL, "UTC", "0000-01-01T00:00:00+00:00" },
		{ -62167219200000LL - 1, "UTC", NULL },
		{ INT64_MIN, "UTC", NULL },
		{ INT64_MAX, "UTC", NULL },
		/* LMT +08:05:43 is rounded to +08:06, the instant is kept. */
		{ utc_ms(1900, 1, 1, 0, 0, 0, 0), "Asia/Shanghai",
		    "1900-01-01T08:06:00+08:06" },
		/* Bad zones. */
		{ 0, "Mars/Olympus_Mons", NULL },
		{ 0, "", NULL },
		{ 0, NULL, NULL },
		{ 0, "../../../etc/passwd", NULL },
		{ 0, "Asia/../Asia/Shanghai", NULL },
		{ 0, "/usr/share/zoneinfo/Asia/Shanghai", NULL },
		{ 0, "right/UTC", NULL },
		{ 0, "Asia", NULL },		/* a directory */
		{ 0, "CST-8", NULL },		/* POSIX TZ, not IANA */
		{ 0, "Asia//Shanghai", NULL },
	};
	char	buf[TIMEFMT_BUFSZ];
	size_t	i;
	int	rc;

	for (i = 0; i < NELEM(cases); i++) {
		memset(buf, 'x', sizeof(buf));
		rc = timefmt_format(cases[i].t_ms, cases[i].tz, buf,
		    sizeof(buf));
		if (cases[i].want == NULL) {
			cr_expect_eq(rc, -1, "case %zu (%s): got \"%s\"", i,
			    cases[i].tz ? cases[i].tz : "NULL", buf);
			cr_expect_str_empty(buf, "case %zu", i);
		} else {
			cr_expect_eq(rc, 0, "case %zu (%s) failed", i,
			    cases[i].tz);
			cr_expect_str_eq(buf, cases[i].want, "case %zu", i);
		}
	}
}

Test(timefmt, format_small_buffer)
{
	char	buf[TIMEFMT_BUFSZ];
	int64_t	t = utc_ms(2026, 3, 2, 13, 14, 5, 250);

	/* "2026-03-02T21:14:05.250+08:00" is 29 characters. */
	cr_assert_eq(timefmt_format(t, "Asia/Shanghai", buf, 30), 0);
	cr_assert_eq(timefmt_format(t, "Asia/Shanghai", buf, 29), -1);
	cr_assert_str_empty(buf);
	cr_assert_eq(timefmt_format(t, "Asia/Shanghai", buf, 0), -1);
}

Test(timefmt, offset)
{
	int	off;

	cr_assert_eq(timefmt_offset(utc_ms(2026, 7, 1, 0, 0, 0, 0),
	    "Europe/Berlin", &off), 0);
	cr_assert_eq(off, 7200);
	cr_assert_eq(timefmt_offset(utc_ms(2026, 1, 1, 0, 0, 0, 0),
	    "Europe/Berlin", &off), 0);
	cr_assert_eq(off, 3600);
	cr_assert_eq(timefmt_offset(0, "Asia/Shanghai", &off), 0);
	cr_assert_eq(off, 28800);
	cr_assert_eq(timefmt_offset(0, "Nowhere/Atlantis", &off), -1);
}

/* Alternating zones and instants must not be served from a stale cache. */
Test(timefmt, cache_follows_zone_and_minute)
{
	int64_t	t = utc_ms(2026, 3, 29, 0, 59, 0, 0);
	char	buf[TIMEFMT_BUFSZ];
	int	i;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(timefmt_format(t, "Europe/Berlin", buf,
		    sizeof(buf)), 0);
		cr_assert_str_eq(buf, "2026-03-29T01:59:00+01:00");
		cr_assert_eq(timefmt_format(t + 59999, "Europe/Berlin", buf,
		    sizeof(buf)), 0);
		cr_assert_str_eq(buf, "2026-03-29T01:59:59.999+01:00");
		cr_assert_eq(timefmt_format(t + 60000, "Europe/Berlin", buf,
		    sizeof(buf)), 0);
		cr_assert_str_eq(buf, "2026-03-29T03:00:00+02:00");
		cr_assert_eq(timefmt_format(t, "Asia/Shanghai", buf,
		    sizeof(buf)), 0);
		cr_assert_str_eq(buf, "2026-03-29T08:59:00+08:00");
	}
}

/* TZ is restored, set or unset, and the process's zone is untouched. */
Test(timefmt, restores_tz)
{
	char		buf[TIMEFMT_BUFSZ];
	int64_t		t;
	struct tm	tm;
	time_t		zero = 0;

	unsetenv("TZ");
	cr_assert_eq(timefmt_format(0, "Asia/Shanghai", buf, sizeof(buf)), 0);
	cr_assert_null(getenv("TZ"));
	cr_assert_eq(timefmt_parse("2026-03-02", "Europe/Berlin", &t, NULL, 0),
	    0);
	cr_assert_null(getenv("TZ"));

	setenv("TZ", "America/New_York", 1);
	tzset();
	cr_assert_eq(timefmt_format(0, "Asia/Shanghai", buf, sizeof(buf)), 0);
	cr_assert_eq(timefmt_parse("2026-03-02", "Europe/Berlin", &t, NULL, 0),
	    0);
	cr_assert_str_eq(getenv("TZ"), "America/New_York");
	localtime_r(&zero, &tm);
	cr_assert_eq(tm.tm_gmtoff, -5 * 3600);
	unsetenv("TZ");
	tzset();
}

struct parse_case {
	const char	*in;
	const char	*tz;
	int64_t		 want;		/* NO_RESULT: must fail */
};

Test(timefmt, parse_table)
{
	const struct parse_case cases[] = {
		/* Date only: start of the day in the zone. */
		{ "2026-03-02", "Asia/Shanghai",
		    utc_ms(2026, 3, 1, 16, 0, 0, 0) },
		{ "2026-03-02", "UTC", utc_ms(2026, 3, 2, 0, 0, 0, 0) },
		{ "2026-07-01", "Europe/Berlin",
		    utc_ms(2026, 6, 30, 22, 0, 0, 0) },
		{ "2026-01-01", "Europe/Berlin",
		    utc_ms(2025, 12, 31, 23, 0, 0, 0) },
		{ "2024-02-29", "UTC", utc_ms(2024, 2, 29, 0, 0, 0, 0) },
		{ "2000-02-29", "UTC", utc_ms(2000, 2, 29, 0, 0, 0, 0) },
		{ "2026-12-31", "UTC", utc_ms(2026, 12, 31, 0, 0, 0, 0) },
		{ "1970-01-01", "UTC", 0 },
		{ "1969-12-31", "UTC", -86400000LL },
		{ "0000-01-01", "UTC", -62167219200000LL },
		{ "9999-12-31", "UTC", utc_ms(9999, 12, 31, 0, 0, 0, 0) },
		/* Local times. */
		{ "2026-03-02T21:14", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 0, 0) },
		{ "2026-03-02T21:14:05", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02 21:14:05", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02t21:14:05", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02T00:00", "Asia/Shanghai",
		    utc_ms(2026, 3, 1, 16, 0, 0, 0) },
		{ "2026-03-02T23:59:59", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 15, 59, 59, 0) },
		{ "2026-03-02T21:14:05.5", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 500) },
		{ "1990-07-01T09:00", "Asia/Shanghai",
		    utc_ms(1990, 7, 1, 0, 0, 0, 0) },
		/* RFC 3339: the offset wins over the zone. */
		{ "2026-03-02T21:14:05+08:00", "Europe/Berlin",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02T13:14:05Z", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02T13:14:05z", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02T13:14:05-00:00", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02T07:44:05-05:30", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "2026-03-02T13:14+00:00", "Asia/Shanghai",
		    utc_ms(2026, 3, 2, 13, 14, 0, 0) },
		{ "2026-03-02T13:14:05.5Z", "UTC",
		    utc_ms(2026, 3, 2, 13, 14, 5, 500) },
		{ "2026-03-02T13:14:05.05Z", "UTC",
		    utc_ms(2026, 3, 2, 13, 14, 5, 50) },
		{ "2026-03-02T13:14:05.123Z", "UTC",
		    utc_ms(2026, 3, 2, 13, 14, 5, 123) },
		{ "2026-03-02T13:14:05.123999999Z", "UTC",
		    utc_ms(2026, 3, 2, 13, 14, 5, 123) },
		{ "2026-03-02T13:14:05.0001Z", "UTC",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		{ "1969-12-31T23:59:59.999Z", "UTC", -1 },
		{ "2026-03-02T23:59:59+23:59", "UTC",
		    utc_ms(2026, 3, 2, 0, 0, 59, 0) },
		{ "2026-03-02T21:14:05+08:00", "Nowhere/Atlantis",
		    utc_ms(2026, 3, 2, 13, 14, 5, 0) },
		/* Berlin spring gap: shifted forward by one hour. */
		{ "2026-03-29T01:59:59", "Europe/Berlin",
		    utc_ms(2026, 3, 29, 0, 59, 59, 0) },
		{ "2026-03-29T02:00", "Europe/Berlin",
		    utc_ms(2026, 3, 29, 1, 0, 0, 0) },
		{ "2026-03-29T02:30", "Europe/Berlin",
		    utc_ms(2026, 3, 29, 1, 30, 0, 0) },
		{ "2026-03-29T02:59:59", "Europe/Berlin",
		    utc_ms(2026, 3, 29, 1, 59, 59, 0) },
		{ "2026-03-29T03:00", "Europe/Berlin",
		    utc_ms(2026, 3, 29, 1, 0, 0, 0) },
		{ "2026-03-29", "Europe/Berlin",
		    utc_ms(2026, 3, 28, 23, 0, 0, 0) },
		/* Berlin autumn overlap: the earlier instant. */
		{ "2026-10-25T01:59:59", "Europe/Berlin",
		    utc_ms(2026, 10, 24, 23, 59, 59, 0) },
		{ "2026-10-25T02:00", "Europe/Berlin",
		    utc_ms(2026, 10, 25, 0, 0, 0, 0) },
		{ "2026-10-25T02:30", "Europe/Berlin",
		    utc_ms(2026, 10, 25, 0, 30, 0, 0) },
		{ "2026-10-25T02:59:59", "Europe/Berlin",
		    utc_ms(2026, 10, 25, 0, 59, 59, 0) },
		{ "2026-10-25T03:00", "Europe/Berlin",
		    utc_ms(2026, 10, 25, 2, 0, 0, 0) },
		{ "2026-10-25", "Europe/Berlin",
		    utc_ms(2026, 10, 24, 22, 0, 0, 0) },
		/* Shanghai DST 1987: 02:00 -> 03:00 on Apr 12. */
		{ "1987-04-12T02:30", "Asia/Shanghai",
		    utc_ms(1987, 4, 11, 18, 30, 0, 0) },
		{ "1987-09-13T01:30", "Asia/Shanghai",
		    utc_ms(1987, 9, 12, 16, 30, 0, 0) },
		/* Midnight that does not exist: the day starts at 01:00. */
		{ "2026-03-08", "America/Havana",
		    utc_ms(2026, 3, 8, 5, 0, 0, 0) },
		{ "2026-09-06", "America/Santiago",
		    utc_ms(2026, 9, 6, 4, 0, 0, 0) },
		/* Midnight that occurs twice: the first one. */
		{ "2026-11-01", "America/Havana",
		    utc_ms(2026, 11, 1, 4, 0, 0, 0) },
		/* A day that does not exist at all. */
		{ "2011-12-30", "Pacific/Apia",
		    utc_ms(2011, 12, 30, 10, 0, 0, 0) },
		{ "2011-12-31", "Pacific/Apia",
		    utc_ms(2011, 12, 30, 10, 0, 0, 0) },
		{ "2011-12-29T23:59:59", "Pacific/Apia",
		    utc_ms(2011, 12, 30, 9, 59, 59, 0) },

		/* Invalid dates and fields. */
		{ "2026-02-29", "UTC", NO_RESULT },
		{ "2026-02-30", "UTC", NO_RESULT },
		{ "1900-02-29", "UTC", NO_RESULT },
		{ "2026-04-31", "UTC", NO_RESULT },
		{ "2026-13-01", "UTC", NO_RESULT },
		{ "2026-00-10", "UTC", NO_RESULT },
		{ "2026-01-00", "UTC", NO_RESULT },
		{ "2026-01-32", "UTC", NO_RESULT },
		{ "2026-03-02T24:00", "UTC", NO_RESULT },
		{ "2026-03-02T23:60", "UTC", NO_RESULT },
		{ "2026-03-02T23:59:60", "UTC", NO_RESULT },
		{ "2026-12-31T23:59:60Z", "UTC", NO_RESULT },
		{ "2026-03-02T23:59:61", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05+24:00", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05+08:60", "UTC", NO_RESULT },
		/* Shape. */
		{ "", "UTC", NO_RESULT },
		{ NULL, "UTC", NO_RESULT },
		{ "2026", "UTC", NO_RESULT },
		{ "2026-03", "UTC", NO_RESULT },
		{ "2026-3-2", "UTC", NO_RESULT },
		{ "26-03-02", "UTC", NO_RESULT },
		{ "+2026-03-02", "UTC", NO_RESULT },
		{ "20260302", "UTC", NO_RESULT },
		{ "2026/03/02", "UTC", NO_RESULT },
		{ "2026-03-02x", "UTC", NO_RESULT },
		{ "2026-03-02 ", "UTC", NO_RESULT },
		{ " 2026-03-02", "UTC", NO_RESULT },
		{ "2026-03-02\n", "UTC", NO_RESULT },
		{ "2026-03-02T", "UTC", NO_RESULT },
		{ "2026-03-02TT21:14", "UTC", NO_RESULT },
		{ "2026-03-02T21", "UTC", NO_RESULT },
		{ "2026-03-02T21:1", "UTC", NO_RESULT },
		{ "2026-03-02T2:14", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:5", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05.", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05.Z", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05.1234567890Z", "UTC", NO_RESULT },
		{ "2026-03-02T21:14.5", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05Zx", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05ZZ", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05+08:00 ", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05+0800", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05+08", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05+8:00", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05 +08:00", "UTC", NO_RESULT },
		{ "2026-03-02  21:14", "UTC", NO_RESULT },
		{ "2026-03-02T21:14:05Z", "UTC",
		    utc_ms(2026, 3, 2, 21, 14, 5, 0) },
		{ "2026-\xef\xbc\x90""3-02", "UTC", NO_RESULT },
		/* A zone is needed for local times only. */
		{ "2026-03-02", "Nowhere/Atlantis", NO_RESULT },
		{ "2026-03-02T21:14", "", NO_RESULT },
		{ "2026-03-02T21:14", NULL, NO_RESULT },
	};
	char	err[128];
	int64_t	t;
	size_t	i;
	int	rc;

	for (i = 0; i < NELEM(cases); i++) {
		t = 42;
		err[0] = '\0';
		rc = timefmt_parse(cases[i].in, cases[i].tz, &t, err,
		    sizeof(err));
		if (cases[i].want == NO_RESULT) {
			cr_expect_eq(rc, -1, "case %zu \"%s\": accepted as "
			    "%lld", i, cases[i].in ? cases[i].in : "NULL",
			    (long long)t);
			cr_expect_neq(err[0], '\0', "case %zu: no message", i);
			cr_expect_eq(t, 42, "case %zu: result touched", i);
		} else {
			cr_expect_eq(rc, 0, "case %zu \"%s\" (%s): %s", i,
			    cases[i].in, cases[i].tz, err);
			cr_expect_eq(t, cases[i].want, "case %zu \"%s\" (%s): "
			    "%lld != %lld", i, cases[i].in, cases[i].tz,
			    (long long)t, (long long)cases[i].want);
		}
	}
}

Test(timefmt, parse_messages)
{
	char	err[128];
	int64_t	t;

	cr_assert_eq(timefmt_parse("2026-02-30", "UTC", &t, err, sizeof(err)),
	    -1);
	cr_assert_str_eq(err, "no day 30 in 2026-02");
	cr_assert_eq(timefmt_parse("2026-03-02T24:00", "UTC", &t, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err, "hour 24 out of range");
	cr_assert_eq(timefmt_parse("2026-03-02x", "UTC", &t, err, sizeof(err)),
	    -1);
	cr_assert_str_eq(err, "unexpected text after the date");
	cr_assert_eq(timefmt_parse("2026-03-02T21:14Q", "UTC", &t, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err, "unexpected text after the time");
	cr_assert_eq(timefmt_parse("2026-03-02", "Nowhere/Atlantis", &t, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err, "unknown time zone \"Nowhere/Atlantis\"");
	/* A tiny or absent buffer is fine. */
	cr_assert_eq(timefmt_parse("x", "UTC", &t, err, 4), -1);
	cr_assert_eq(strlen(err), 3);
	cr_assert_eq(timefmt_parse("x", "UTC", &t, NULL, 0), -1);
}

/*
 * Every 5 minutes across both Berlin changes of 2026: formatting and
 * parsing back gives the instant; the local part alone gives it back too,
 * except in the repeated hour, where it gives the first occurrence.
 */
Test(timefmt, round_trip_berlin)
{
	const int64_t	starts[] = {
		utc_ms(2026, 3, 28, 22, 0, 0, 0),
		utc_ms(2026, 10, 24, 22, 0, 0, 0),
	};
	const int64_t	overlap_from = utc_ms(2026, 10, 25, 1, 0, 0, 0);
	const int64_t	overlap_to = utc_ms(2026, 10, 25, 2, 0, 0, 0);
	char		buf[TIMEFMT_BUFSZ], local[TIMEFMT_BUFSZ], err[128];
	int64_t		t, back;
	size_t		i;

	for (i = 0; i < NELEM(starts); i++) {
		for (t = starts[i]; t < starts[i] + 6 * 3600000LL;
		    t += 300000 + 7) {
			cr_assert_eq(timefmt_format(t, "Europe/Berlin", buf,
			    sizeof(buf)), 0);
			cr_assert_eq(timefmt_parse(buf, "Asia/Shanghai", &back,
			    err, sizeof(err)), 0, "%s: %s", buf, err);
			cr_assert_eq(back, t, "%s", buf);

			util_strlcpy(local, buf, sizeof(local));
			local[strlen(local) - 6] = '\0';	/* "+HH:MM" */
			cr_assert_eq(timefmt_parse(local, "Europe/Berlin",
			    &back, err, sizeof(err)), 0, "%s: %s", local, err);
			if (t >= overlap_from && t < overlap_to)
				cr_assert_eq(back, t - 3600000, "%s", local);
			else
				cr_assert_eq(back, t, "%s", local);
		}
	}
}

Test(timefmt, zone_valid)
{
	cr_assert_eq(timefmt_zone_valid("Asia/Shanghai"), 0);
	cr_assert_eq(timefmt_zone_valid("Europe/Berlin"), 0);
	cr_assert_eq(timefmt_zone_valid("UTC"), 0);
	cr_assert_eq(timefmt_zone_valid("Etc/GMT-8"), 0);
	cr_assert_eq(timefmt_zone_valid("Asia/Shanghai "), -1);
	cr_assert_eq(timefmt_zone_valid("Asia/Shanghai/"), -1);
	cr_assert_eq(timefmt_zone_valid("./UTC"), -1);
	cr_assert_eq(timefmt_zone_valid("zone.tab"), -1);	/* not TZif */
	cr_assert_eq(timefmt_zone_valid(NULL), -1);
}

struct dur_case {
	int64_t		 s;
	const char	*want;
};

Test(timefmt, duration_table)
{
	const struct dur_case cases[] = {
		{ 0, "0s" },
		{ 59, "59s" },
		{ 60, "1m00s" },
		{ 185, "3m05s" },
		{ 3599, "59m59s" },
		{ 3600, "1h00m00s" },
		{ 7385, "2h03m05s" },
		{ 86399, "23h59m59s" },
		{ 86400, "1d00h00m" },
		{ 273785, "3d04h03m" },
		{ -5, "-5s" },
		{ -3600, "-1h00m00s" },
		{ INT64_MAX, "106751991167300d15h30m" },
		{ INT64_MIN, "-106751991167300d15h30m" },
	};
	char	buf[TIMEFMT_DURATION_BUFSZ];
	size_t	i;

	for (i = 0; i < NELEM(cases); i++) {
		cr_expect_eq(timefmt_duration(cases[i].s, buf, sizeof(buf)), 0);
		cr_expect_str_eq(buf, cases[i].want, "case %zu", i);
	}
	cr_assert_eq(timefmt_duration(185, buf, 5), -1);
	cr_assert_str_empty(buf);
}
