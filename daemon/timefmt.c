/* SPDX-License-Identifier: MIT */
/*
 * timefmt.c - RFC 3339 times in an IANA zone and fleetgwctl `T' arguments.
 *
 * The calendar arithmetic is our own (proleptic Gregorian, days from
 * 1970-01-01), so only one question is asked of the C library: which UTC
 * offset is in force in a zone at an instant.  That is answered by
 * localtime_r() with TZ set to ":Zone" around the call.  Everything else
 * (local wall time, nonexistent and ambiguous local times) follows from
 * the offsets.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "timefmt.h"
#include "util.h"

#define SECS_PER_MIN	60
#define SECS_PER_HOUR	3600
#define SECS_PER_DAY	86400
#define MS_PER_SEC	1000

#define YEAR_MIN	0
#define YEAR_MAX	9999

/* Days from 1970-01-01 to 0000-01-01 and to 10000-01-01. */
#define DAYS_YEAR_MIN	(-719528LL)
#define DAYS_YEAR_END	(2932897LL)

/*
 * Offsets in real zones stay within -25:59..+25:59; instants further than
 * this outside 0000..9999 can never format or parse inside the range.
 */
#define MARGIN_S	(2LL * SECS_PER_DAY)

/*
 * Offset probes around a local time: far enough to see past the largest
 * offset change in tzdata (Pacific/Apia skipped a whole day in 2011) on
 * both sides, which needs no two changes within twice this distance.
 */
#define PROBE_S		(2LL * SECS_PER_DAY)

/*
 * The offset cache: listings format many instants a second apart, and
 * every miss costs two tzset() calls, each reading a zone file.  Since
 * 1980 every zone's offsets are whole minutes and every transition falls
 * on a whole minute, so the offset is constant within a UTC minute.
 */
#define CACHE_SINCE_S	315532800LL	/* 1980-01-01T00:00:00Z */
#define ZONE_NAME_MAX	64		/* longer names are not cached */

#define TZ_DEFAULT_DIR	"/usr/share/zoneinfo"
#define TZIF_MAGIC	"TZif"
#define TZIF_MAGIC_LEN	4

#define FRAC_DIGITS_MAX	9
#define DATE_LEN	10		/* "YYYY-MM-DD" */

static struct {
	char	 zone[ZONE_NAME_MAX];
	int64_t	 minute;
	int	 off_s;
	bool	 valid;
} offset_cache;

/* The last zone name timefmt_zone_valid() accepted. */
static char valid_zone[ZONE_NAME_MAX];

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t	q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && is_leap(y))
		return 29;
	return mdays[m - 1];
}

/* H. Hinnant's days_from_civil(): days since 1970-01-01. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t	era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void
seterr(char *err, size_t errsize, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

int
timefmt_zone_valid(const char *tz)
{
	const char	*dir, *p, *comp;
	char		 path[4096], magic[TZIF_MAGIC_LEN];
	struct stat	 st;
	size_t		 len;
	int		 fd, n;

	if (tz == NULL || *tz == '\0')
		return -1;
	if (strcmp(tz, valid_zone) == 0)
		return 0;
	len = strlen(tz);
	if (len >= sizeof(path) / 2 || tz[0] == '/' ||
	    strncmp(tz, "right/", 6) == 0)
		return -1;
	for (p = tz; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("_+-/.", *p) != NULL))
			return -1;
	}
	/* No empty, "." or ".." component: the name must stay in the db. */
	for (comp = tz; comp != NULL; comp = p != NULL ? p + 1 : NULL) {
		p = strchr(comp, '/');
		len = p != NULL ? (size_t)(p - comp) : strlen(comp);
		if (len == 0 || (len == 1 && comp[0] == '.') ||
		    (len == 2 && comp[0] == '.' && comp[1] == '.'))
			return -1;
	}

	dir = getenv("TZDIR");
	if (dir == NULL || *dir == '\0')
		dir = TZ_DEFAULT_DIR;
	n = snprintf(path, sizeof(path), "%s/%s", dir, tz);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    read(fd, magic, sizeof(magic)) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, TZIF_MAGIC, TZIF_MAGIC_LEN) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	if (strlen(tz) < sizeof(valid_zone))
		util_strlcpy(valid_zone, tz, sizeof(valid_zone));
	return 0;
}

/*
 * Make tz the process's zone; *saved receives the previous TZ (NULL if
 * unset) for zone_leave().  tz must have passed timefmt_zone_valid(), since
 * glibc silently falls back to UTC for a zone it cannot load.
 */
static void
zone_enter(const char *tz, char **saved)
{
	const char	*old;
	char		*val;

	old = getenv("TZ");
	*saved = old != NULL ? xstrdup(old) : NULL;
	val = xasprintf(":%s", tz);
	if (setenv("TZ", val, 1) == -1)
		fatal("timefmt: setenv TZ");
	free(val);
	tzset();
}

static void
zone_leave(char *saved)
{
	if (saved != NULL) {
		if (setenv("TZ", saved, 1) == -1)
			fatal("timefmt: setenv TZ");
	} else
		unsetenv("TZ");
	tzset();
	free(saved);
}

/* Offset at t in the zone made current by zone_enter().  0 or -1. */
static int
raw_offset(int64_t t, int *off_s)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (localtime_r(&tt, &tm) == NULL)
		return -1;
	*off_s = (int)tm.tm_gmtoff;
	return 0;
}

/* Seconds since the epoch inside the instants this module deals with. */
static bool
in_range_s(int64_t t)
{
	return t >= DAYS_YEAR_MIN * SECS_PER_DAY - MARGIN_S &&
	    t < DAYS_YEAR_END * SECS_PER_DAY + MARGIN_S;
}

static int
offset_at(int64_t t, const char *tz, int *off_s)
{
	char	*saved;
	int64_t	 minute;
	bool	 cacheable;
	int	 rc;

	if (!in_range_s(t) || timefmt_zone_valid(tz) == -1)
		return -1;
	minute = floor_div(t, SECS_PER_MIN);
	cacheable = t >= CACHE_SINCE_S && strlen(tz) < ZONE_NAME_MAX;
	if (cacheable && offset_cache.valid && offset_cache.minute == minute &&
	    strcmp(offset_cache.zone, tz) == 0) {
		*off_s = offset_cache.off_s;
		return 0;
	}
	zone_enter(tz, &saved);
	rc = raw_offset(t, off_s);
	zone_leave(saved);
	if (rc == 0 && cacheable) {
		util_strlcpy(offset_cache.zone, tz, sizeof(offset_cache.zone));
		offset_cache.minute = minute;
		offset_cache.off_s = *off_s;
		offset_cache.valid = true;
	}
	return rc;
}

int
timefmt_offset(int64_t t_utc_ms, const char *tz, int *off_s)
{
	return offset_at(floor_div(t_utc_ms, MS_PER_SEC), tz, off_s);
}

int
timefmt_format(int64_t t_utc_ms, const char *tz, char *buf, size_t size)
{
	int64_t	 t, local, days, sod, year;
	int	 ms, off_s, off_min, month, day, n;
	char	 frac[8] = "";
	char	 sign;

	if (size > 0)
		buf[0] = '\0';
	t = floor_div(t_utc_ms, MS_PER_SEC);
	ms = (int)(t_utc_ms % MS_PER_SEC);
	if (ms < 0)
		ms += MS_PER_SEC;
	if (offset_at(t, tz, &off_s) == -1)
		return -1;
	/* RFC 3339 offsets have no seconds: round to the minute. */
	if (off_s >= 0)
		off_min = (off_s + SECS_PER_MIN / 2) / SECS_PER_MIN;
	else
		off_min = -((-off_s + SECS_PER_MIN / 2) / SECS_PER_MIN);
	local = t + (int64_t)off_min * SECS_PER_MIN;
	days = floor_div(local, SECS_PER_DAY);
	sod = local - days * SECS_PER_DAY;
	civil_from_days(days, &year, &month, &day);
	if (year < YEAR_MIN || year > YEAR_MAX)
		return -1;
	if (ms != 0)
		snprintf(frac, sizeof(frac), ".%03d", ms);
	sign = off_min < 0 ? '-' : '+';
	if (off_min < 0)
		off_min = -off_min;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%c%02d:%02d",
	    (int)year, month, day, (int)(sod / SECS_PER_HOUR),
	    (int)(sod % SECS_PER_HOUR / SECS_PER_MIN),
	    (int)(sod % SECS_PER_MIN), frac, sign, off_min / 60, off_min % 60);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}

/* Exactly n ASCII digits at *pp; advances *pp.  0 or -1. */
static int
get_digits(const char **pp, int n, int *v)
{
	const char	*p = *pp;
	int		 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	*pp = p + n;
	return 0;
}

/*
 * The instant at which zone tz shows local wall time local (seconds since
 * 1970-01-01 on the local calendar); see timefmt.h for gaps and overlaps.
 */
static int
resolve_local(int64_t local, const char *tz, int64_t *t, char *err,
    size_t errsize)
{
	char	*saved;
	int64_t	 c_early, c_late;
	int	 o_early, o_late, o1, o2, rc = -1;
	bool	 ok_early, ok_late;

	if (timefmt_zone_valid(tz) == -1) {
		seterr(err, errsize, "unknown time zone \"%s\"",
		    tz != NULL ? tz : "");
		return -1;
	}
	zone_enter(tz, &saved);
	if (raw_offset(local - PROBE_S, &o_early) == -1 ||
	    raw_offset(local + PROBE_S, &o_late) == -1)
		goto out;
	c_early = local - o_early;
	c_late = local - o_late;
	if (raw_offset(c_early, &o1) == -1 || raw_offset(c_late, &o2) == -1)
		goto out;
	ok_early = c_early + o1 == local;
	ok_late = c_late + o2 == local;
	if (ok_early && ok_late)
		*t = c_early < c_late ? c_early : c_late;	/* overlap */
	else if (ok_early)
		*t = c_early;
	else if (ok_late)
		*t = c_late;
	else
		*t = c_early;	/* gap: shift forward by its length */
	rc = 0;
out:
	zone_leave(saved);
	if (rc == -1)
		seterr(err, errsize, "time out of range");
	return rc;
}

int
timefmt_parse(const char *s, const char *tz, int64_t *t_utc_ms, char *err,
    size_t errsize)
{
	const char	*p = s;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	int		 oh, om, digit, i;
	int64_t		 local, t;
	bool		 has_off = false;
	int		 off_s = 0;

	seterr(err, errsize, "%s", "");
	if (s == NULL) {
		seterr(err, errsize, "empty time");
		return -1;
	}
	if (get_digits(&p, 4, &y) == -1 || *p++ != '-' ||
	    get_digits(&p, 2, &mo) == -1 || *p++ != '-' ||
	    get_digits(&p, 2, &d) == -1) {
		seterr(err, errsize, "expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] "
		    "or RFC 3339");
		return -1;
	}
	if (mo < 1 || mo > 12) {
		seterr(err, errsize, "month %02d out of range", mo);
		return -1;
	}
	if (d < 1 || d > days_in_month(y, mo)) {
		seterr(err, errsize, "no day %02d in %04d-%02d", d, y, mo);
		return -1;
	}

	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (get_digits(&p, 2, &h) == -1 || *p++ != ':' ||
		    get_digits(&p, 2, &mi) == -1) {
			seterr(err, errsize, "expected HH:MM after the date");
			return -1;
		}
		if (*p == ':') {
			p++;
			if (get_digits(&p, 2, &sec) == -1) {
				seterr(err, errsize, "expected two digits of "
				    "seconds");
				return -1;
			}
			if (*p == '.') {
				p++;
				for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
					digit = p[i] - '0';
					if (i < 3)
						ms = ms * 10 + digit;
				}
				if (i == 0 || i > FRAC_DIGITS_MAX) {
					seterr(err, errsize, "fraction of a "
					    "second needs 1 to %d digits",
					    FRAC_DIGITS_MAX);
					return -1;
				}
				for (; i < 3; i++)
					ms *= 10;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (h > 23) {
			seterr(err, errsize, "hour %02d out of range", h);
			return -1;
		}
		if (mi > 59) {
			seterr(err, errsize, "minute %02d out of range", mi);
			return -1;
		}
		if (sec == 60) {
			seterr(err, errsize, "leap second :60 not supported");
			return -1;
		}
		if (sec > 59) {
			seterr(err, errsize, "second %02d out of range", sec);
			return -1;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
			has_off = true;
		} else if (*p == '+' || *p == '-') {
			bool	neg = *p == '-';

			p++;
			if (get_digits(&p, 2, &oh) == -1 || *p++ != ':' ||
			    get_digits(&p, 2, &om) == -1) {
				seterr(err, errsize, "expected +HH:MM or "
				    "-HH:MM offset");
				return -1;
			}
			if (oh > 23 || om > 59) {
				seterr(err, errsize, "offset %02d:%02d out of "
				    "range", oh, om);
				return -1;
			}
			off_s = oh * SECS_PER_HOUR + om * SECS_PER_MIN;
			if (neg)
				off_s = -off_s;
			has_off = true;
		}
	}
	if (*p != '\0') {
		seterr(err, errsize, "unexpected text after the %s",
		    p - s == DATE_LEN ? "date" : "time");
		return -1;
	}

	local = days_from_civil(y, mo, d) * SECS_PER_DAY + h * SECS_PER_HOUR +
	    mi * SECS_PER_MIN + sec;
	if (has_off)
		t = local - off_s;
	else if (resolve_local(local, tz, &t, err, errsize) == -1)
		return -1;
	*t_utc_ms = t * MS_PER_SEC + ms;
	return 0;
}

int
timefmt_duration(int64_t s, char *buf, size_t size)
{
	const char	*sign = "";
	uint64_t	 u;
	int		 n;

	if (s < 0) {
		sign = "-";
		u = (uint64_t)-(s + 1) + 1;	/* INT64_MIN too */
	} else
		u = (uint64_t)s;
	if (u < 60)
		n = snprintf(buf, size, "%s%llus", sign, (unsigned long long)u);
	else if (u < 3600)
		n = snprintf(buf, size, "%s%llum%02llus", sign,
		    (unsigned long long)(u / 60), (unsigned long long)(u % 60));
	else if (u < 86400)
		n = snprintf(buf, size, "%s%lluh%02llum%02llus", sign,
		    (unsigned long long)(u / 3600),
		    (unsigned long long)(u % 3600 / 60),
		    (unsigned long long)(u % 60));
	else
		n = snprintf(buf, size, "%s%llud%02lluh%02llum", sign,
		    (unsigned long long)(u / 86400),
		    (unsigned long long)(u % 86400 / 3600),
		    (unsigned long long)(u % 3600 / 60));
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}
