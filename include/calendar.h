/* SPDX-License-Identifier: MIT */
/*
 * calendar.h - the work calendar (工作日历): which local days are
 * workdays, rest days or statutory holidays (法定节假日), and which local
 * instants are working time.
 *
 * Pure: no I/O, no clock, no time zone.  It works on civil dates and
 * minutes of the local day; the caller (main.c, with timefmt.h) turns GNSS
 * time into the configured zone first, so a replayed log gives the same
 * answers as the live drive.
 *
 * A day is, in this order of precedence:
 *   1. a statutory holiday when it is listed as one (放假: the whole
 *      holiday period of a State Council notice, weekends inside it
 *      included), with its name;
 *   2. a workday when it is listed as an adjusted working day (调休上班,
 *      usually a Saturday or Sunday), with its name;
 *   3. else a workday when its weekday is one of the weekly workdays,
 *      a rest day otherwise.
 * A date listed both as a holiday and as a workday is rejected when the
 * calendar is built.
 *
 * Working time is a workday's work periods, each [start, end) in minutes
 * from local midnight (08:30-12:00 is [510, 720)): at 12:00 exactly work
 * has ended.  Periods are sorted, do not overlap and lie within one day
 * (a night shift crossing midnight is two periods on two days).
 */
#ifndef CALENDAR_H
#define CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CALENDAR_MAX_PERIODS	8
#define CALENDAR_MAX_DATES	4096	/* holidays + adjusted workdays */
#define CALENDAR_NAME_MAX	64	/* bytes of a date's name */

enum calendar_day {
	CALENDAR_WORKDAY,	/* weekly workday or adjusted working day */
	CALENDAR_REST_DAY,	/* weekend (or other weekly rest day) */
	CALENDAR_HOLIDAY	/* statutory holiday */
};

/* A civil date: year 1970..9999, month 1..12, day 1..31. */
struct calendar_date {
	int		 year, month, day;
};

struct calendar_period {
	int		 start_min;	/* 0..1439 */
	int		 end_min;	/* start_min + 1 .. 1440 */
};

/* One listed date: a holiday or an adjusted working day. */
struct calendar_entry {
	struct calendar_date date;
	bool		 holiday;	/* false: adjusted working day */
	const char	*name;		/* e.g. "国庆节"; NULL or "" = none */
};

/* What calendar_new() is built from (the config's calendar group). */
struct calendar_spec {
	uint8_t		 workdays;	/* bit 0 Monday .. bit 6 Sunday */
	struct calendar_period periods[CALENDAR_MAX_PERIODS];
	size_t		 nperiods;	/* 0: no working time at all */
	const struct calendar_entry *entries;
	size_t		 nentries;	/* <= CALENDAR_MAX_DATES */
};

struct calendar;

/*
 * Build a calendar (copies everything it needs from spec).  NULL with a
 * reason in why (lower case, no trailing period) when spec is invalid: a
 * bad date (2026-02-30), overlapping or unsorted periods, a period out of
 * range, a date listed twice (as the same or as both kinds), too many
 * entries, a name longer than CALENDAR_NAME_MAX.
 */
struct calendar	*calendar_new(const struct calendar_spec *, char *why,
		    size_t whylen);
void		 calendar_free(struct calendar *);	/* NULL ok */

/* A valid civil date (leap years included)? */
bool		 calendar_date_valid(const struct calendar_date *);
/* Day of the week, 0 Monday .. 6 Sunday (proleptic Gregorian). */
int		 calendar_weekday(const struct calendar_date *);
/* The next and the previous civil day. */
void		 calendar_date_next(struct calendar_date *);
void		 calendar_date_prev(struct calendar_date *);

/*
 * What kind of day date is.  *name (may be NULL) is set to the listed
 * name, or "" when the day is not listed.  Borrowed, valid until
 * calendar_free().
 */
enum calendar_day calendar_day_kind(const struct calendar *,
		    const struct calendar_date *, const char **name);

/* Is minute minute_of_day (0..1439) of date working time? */
bool		 calendar_is_work_time(const struct calendar *,
		    const struct calendar_date *, int minute_of_day);

/*
 * Minutes from minute_of_day of date until working time next starts or
 * ends (whichever state is not the current one), looking at most
 * max_days days ahead; -1 if it does not change within that horizon.
 * For "the episode ends when work starts" and the after-hours timer.
 */
int64_t		 calendar_minutes_to_change(const struct calendar *,
		    const struct calendar_date *, int minute_of_day,
		    int max_days);

/* The spec's periods, for reports: "08:30-12:00, 13:30-17:30". */
size_t		 calendar_format_periods(const struct calendar *, char *buf,
		    size_t len);

#endif /* CALENDAR_H */
