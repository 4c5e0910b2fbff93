/* SPDX-License-Identifier: MIT */
/*
 * calendar.c - the work calendar; see calendar.h.
 *
 * Dates become day numbers (days since 1970-01-01, proleptic Gregorian)
 * with the days-from-civil algorithm, so weekdays, next/previous days and
 * the sorted table of listed dates need no libc time function and no
 * time zone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "util.h"

#define MIN_PER_DAY	1440
#define YEAR_MIN	1970
#define YEAR_MAX	9999

struct cal_entry {
	int64_t		 dn;		/* day number */
	bool		 holiday;
	char		*name;		/* "" when none */
};

struct calendar {
	uint8_t		 workdays;
	struct calendar_period periods[CALENDAR_MAX_PERIODS];
	size_t		 nperiods;
	struct cal_entry *e;		/* sorted by dn */
	size_t		 n;
};

static int
cal_err(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
cal_err(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int	 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

bool
calendar_date_valid(const struct calendar_date *d)
{
	return d->year >= YEAR_MIN && d->year <= YEAR_MAX && d->month >= 1 &&
	    d->month <= 12 && d->day >= 1 &&
	    d->day <= month_days(d->year, d->month);
}

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
static int64_t
day_number(const struct calendar_date *d)
{
	int64_t		 y = d->year - (d->month <= 2);
	int64_t		 era = y / 400;	/* y >= 1969: no negative years */
	int64_t		 yoe = y - era * 400;
	int64_t		 mp = (d->month + 9) % 12;	/* March = 0 */
	int64_t		 doy = (153 * mp + 2) / 5 + d->day - 1;
	int64_t		 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int
calendar_weekday(const struct calendar_date *d)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	int64_t	w = (day_number(d) + 3) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

void
calendar_date_next(struct calendar_date *d)
{
	if (d->day < month_days(d->year, d->month)) {
		d->day++;
		return;
	}
	d->day = 1;
	if (d->month < 12) {
		d->month++;
		return;
	}
	d->month = 1;
	d->year++;
}

void
calendar_date_prev(struct calendar_date *d)
{
	if (d->day > 1) {
		d->day--;
		return;
	}
	if (d->month > 1)
		d->month--;
	else {
		d->month = 12;
		d->year--;
	}
	d->day = month_days(d->year, d->month);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct cal_entry	*x = a, *y = b;

	return x->dn < y->dn ? -1 : x->dn > y->dn;
}

static const struct cal_entry *
find(const struct calendar *cal, int64_t dn)
{
	size_t	lo = 0, hi = cal->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cal->e[mid].dn < dn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cal->n && cal->e[lo].dn == dn ? &cal->e[lo] : NULL;
}

struct calendar *
calendar_new(const struct calendar_spec *spec, char *why, size_t whylen)
{
	struct calendar		*cal;
	const struct calendar_entry *in;
	const struct calendar_period *p;
	size_t			 i;

	if (spec->workdays > 0x7f) {
		cal_err(why, whylen, "workdays mask 0x%x has bits beyond "
		    "Sunday", spec->workdays);
		return NULL;
	}
	if (spec->nperiods > CALENDAR_MAX_PERIODS) {
		cal_err(why, whylen, "%zu work periods, at most %d",
		    spec->nperiods, CALENDAR_MAX_PERIODS);
		return NULL;
	}
	for (i = 0; i < spec->nperiods; i++) {
		p = &spec->periods[i];
		if (p->start_min < 0 || p->start_min >= MIN_PER_DAY ||
		    p->end_min <= p->start_min || p->end_min > MIN_PER_DAY) {
			cal_err(why, whylen, "work period %zu (%d..%d min) out "
			    "of range or empty", i + 1, p->start_min,
			    p->end_min);
			return NULL;
		}
		if (i > 0 && p->start_min < spec->periods[i - 1].end_min) {
			cal_err(why, whylen, "work periods %zu and %zu overlap "
			    "or are not in order", i, i + 1);
			return NULL;
		}
	}
	if (spec->nentries > CALENDAR_MAX_DATES) {
		cal_err(why, whylen, "%zu listed dates, at most %d",
		    spec->nentries, CALENDAR_MAX_DATES);
		return NULL;
	}
	cal = xcalloc(1, sizeof(*cal));
	cal->workdays = spec->workdays;
	memcpy(cal->periods, spec->periods, sizeof(cal->periods));
	cal->nperiods = spec->nperiods;
	cal->e = xcalloc(spec->nentries + 1, sizeof(*cal->e));
	for (i = 0; i < spec->nentries; i++) {
		in = &spec->entries[i];
		if (!calendar_date_valid(&in->date)) {
			cal_err(why, whylen, "%04d-%02d-%02d is not a valid date",
			    in->date.year, in->date.month, in->date.day);
			goto bad;
		}
		if (in->name != NULL && strlen(in->name) > CALENDAR_NAME_MAX) {
			cal_err(why, whylen, "%04d-%02d-%02d: name longer than "
			    "%d bytes", in->date.year, in->date.month,
			    in->date.day, CALENDAR_NAME_MAX);
			goto bad;
		}
		cal->e[i].dn = day_number(&in->date);
		cal->e[i].holiday = in->holiday;
		cal->e[i].name = xstrdup(in->name != NULL ? in->name : "");
		cal->n++;
	}
	qsort(cal->e, cal->n, sizeof(*cal->e), entry_cmp);
	for (i = 1; i < cal->n; i++) {
		if (cal->e[i].dn != cal->e[i - 1].dn)
			continue;
		in = NULL;
		/* Report the date as written: find it again in the spec. */
		for (size_t k = 0; k < spec->nentries; k++)
			if (day_number(&spec->entries[k].date) ==
			    cal->e[i].dn) {
				in = &spec->entries[k];
				break;
			}
		cal_err(why, whylen, "%04d-%02d-%02d is listed twice%s",
		    in->date.year, in->date.month, in->date.day,
		    cal->e[i].holiday != cal->e[i - 1].holiday ?
		    ", as a holiday and as a workday" : "");
		goto bad;
	}
	return cal;
bad:
	calendar_free(cal);
	return NULL;
}

void
calendar_free(struct calendar *cal)
{
	size_t	i;

	if (cal == NULL)
		return;
	for (i = 0; i < cal->n; i++)
		free(cal->e[i].name);
	free(cal->e);
	free(cal);
}

static enum calendar_day
kind_dn(const struct calendar *cal, int64_t dn, const char **name)
{
	const struct cal_entry	*e = find(cal, dn);
	int64_t			 w;

	if (name != NULL)
		*name = e != NULL ? e->name : "";
	if (e != NULL)
		return e->holiday ? CALENDAR_HOLIDAY : CALENDAR_WORKDAY;
	w = ((dn + 3) % 7 + 7) % 7;
	return (cal->workdays >> w) & 1 ? CALENDAR_WORKDAY :
	    CALENDAR_REST_DAY;
}

enum calendar_day
calendar_day_kind(const struct calendar *cal, const struct calendar_date *d,
    const char **name)
{
	return kind_dn(cal, day_number(d), name);
}

static bool
in_periods(const struct calendar *cal, int minute)
{
	size_t	i;

	for (i = 0; i < cal->nperiods; i++)
		if (minute >= cal->periods[i].start_min &&
		    minute < cal->periods[i].end_min)
			return true;
	return false;
}

bool
calendar_is_work_time(const struct calendar *cal,
    const struct calendar_date *d, int minute_of_day)
{
	if (minute_of_day < 0 || minute_of_day >= MIN_PER_DAY)
		return false;
	return kind_dn(cal, day_number(d), NULL) == CALENDAR_WORKDAY &&
	    in_periods(cal, minute_of_day);
}

/*
 * The state changes only at period boundaries of workdays and at
 * midnight between days of different kinds; walk those boundaries.
 */
int64_t
calendar_minutes_to_change(const struct calendar *cal,
    const struct calendar_date *d, int minute_of_day, int max_days)
{
	int64_t		 dn = day_number(d), day, t, b;
	bool		 now, work;
	size_t		 i;

	if (minute_of_day < 0 || minute_of_day >= MIN_PER_DAY || max_days < 0)
		return -1;
	work = kind_dn(cal, dn, NULL) == CALENDAR_WORKDAY;
	now = work && in_periods(cal, minute_of_day);
	for (day = 0; day <= max_days; day++) {
		work = kind_dn(cal, dn + day, NULL) == CALENDAR_WORKDAY;
		/* Candidate instants of this day, in order. */
		for (i = 0; i < 2 * cal->nperiods + 1; i++) {
			if (i == 0)
				b = 0;		/* midnight starting the day */
			else if (i % 2 == 1)
				b = cal->periods[i / 2].start_min;
			else
				b = cal->periods[i / 2 - 1].end_min;
			if (b >= MIN_PER_DAY)
				continue;	/* 24:00 is the next midnight */
			t = day * MIN_PER_DAY + b;
			if (t <= minute_of_day)
				continue;
			if ((work && in_periods(cal, (int)b)) != now)
				return t - minute_of_day;
		}
	}
	return -1;
}

size_t
calendar_format_periods(const struct calendar *cal, char *buf, size_t len)
{
	size_t	i, n = 0;
	int	r;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < cal->nperiods; i++) {
		r = snprintf(buf + n, n < len ? len - n : 0,
		    "%s%02d:%02d-%02d:%02d", i > 0 ? ", " : "",
		    cal->periods[i].start_min / 60,
		    cal->periods[i].start_min % 60,
		    cal->periods[i].end_min / 60, cal->periods[i].end_min % 60);
		if (r > 0)
			n += (size_t)r;
	}
	return n;
}
