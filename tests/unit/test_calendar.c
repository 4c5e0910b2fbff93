/* SPDX-License-Identifier: MIT */
/*
 * test_calendar.c - the work calendar (daemon/calendar.c).
 *
 * The calendar under test is the Chinese 2026 arrangement around the
 * National Day week as the State Council notice of 2025-11-04 sets it
 * (国庆节 2026-10-01..07 off, 2026-10-10 Saturday worked, 中秋节
 * 2026-09-25..27 off, 2026-09-20 Sunday worked), with the usual weekly
 * pattern and office hours 08:30-12:00 and 13:30-17:30.  When
 * ../shared/testdata/calendar/cn-holidays.txt is present, the whole file
 * is also loaded and spot-checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "calendar.h"

#define MON_FRI		0x1f
#define HM(h, m)	((h) * 60 + (m))
#define SHARED_HOLIDAYS	"../shared/testdata/calendar/cn-holidays.txt"

static const struct calendar_entry entries_2026[] = {
	{ { 2026, 9, 20 }, false, "国庆节调休上班" },
	{ { 2026, 9, 25 }, true, "中秋节" },
	{ { 2026, 9, 26 }, true, "中秋节" },
	{ { 2026, 9, 27 }, true, "中秋节" },
	{ { 2026, 10, 1 }, true, "国庆节" },
	{ { 2026, 10, 2 }, true, "国庆节" },
	{ { 2026, 10, 3 }, true, "国庆节" },
	{ { 2026, 10, 4 }, true, "国庆节" },
	{ { 2026, 10, 5 }, true, "国庆节" },
	{ { 2026, 10, 6 }, true, "国庆节" },
	{ { 2026, 10, 7 }, true, "国庆节" },
	{ { 2026, 10, 10 }, false, "国庆节调休上班" },
};

static struct calendar *
office(void)
{
	struct calendar_spec	 spec;
	struct calendar		*cal;
	char			 why[128];

	memset(&spec, 0, sizeof(spec));
	spec.workdays = MON_FRI;
	spec.periods[0] = (struct calendar_period){ HM(8, 30), HM(12, 0) };
	spec.periods[1] = (struct calendar_period){ HM(13, 30), HM(17, 30) };
	spec.nperiods = 2;
	spec.entries = entries_2026;
	spec.nentries = sizeof(entries_2026) / sizeof(entries_2026[0]);
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	return cal;
}

#define D(y, m, d)	(&(struct calendar_date){ (y), (m), (d) })

Test(calendar, dates_and_weekdays)
{
	struct calendar_date	 d;

	cr_assert(calendar_date_valid(D(2024, 2, 29)));
	cr_assert(!calendar_date_valid(D(2026, 2, 29)));
	cr_assert(!calendar_date_valid(D(1900, 2, 29)));
	cr_assert(calendar_date_valid(D(2000, 2, 29)));
	cr_assert(!calendar_date_valid(D(2026, 4, 31)));
	cr_assert(!calendar_date_valid(D(2026, 13, 1)));
	cr_assert(!calendar_date_valid(D(2026, 0, 1)));
	cr_assert(!calendar_date_valid(D(1969, 12, 31)));
	/* 0 = Monday. */
	cr_assert_eq(calendar_weekday(D(1970, 1, 1)), 3);	/* Thursday */
	cr_assert_eq(calendar_weekday(D(2026, 11, 28)), 5);	/* Saturday */
	cr_assert_eq(calendar_weekday(D(2026, 10, 10)), 5);
	cr_assert_eq(calendar_weekday(D(2026, 10, 1)), 3);
	cr_assert_eq(calendar_weekday(D(2000, 3, 1)), 2);	/* Wednesday */
	cr_assert_eq(calendar_weekday(D(2100, 3, 1)), 0);	/* Monday */

	d = (struct calendar_date){ 2026, 12, 31 };
	calendar_date_next(&d);
	cr_assert(d.year == 2027 && d.month == 1 && d.day == 1);
	calendar_date_prev(&d);
	cr_assert(d.year == 2026 && d.month == 12 && d.day == 31);
	d = (struct calendar_date){ 2024, 2, 28 };
	calendar_date_next(&d);
	cr_assert(d.month == 2 && d.day == 29);
	calendar_date_next(&d);
	cr_assert(d.month == 3 && d.day == 1);
	calendar_date_prev(&d);
	cr_assert(d.month == 2 && d.day == 29);
	d = (struct calendar_date){ 2026, 3, 1 };
	calendar_date_prev(&d);
	cr_assert(d.month == 2 && d.day == 28);
}

Test(calendar, day_kinds)
{
	struct calendar	*cal = office();
	const char	*name;

	/* An ordinary Thursday and Saturday. */
	cr_assert_eq(calendar_day_kind(cal, D(2026, 11, 26), &name),
	    CALENDAR_WORKDAY);
	cr_assert_str_eq(name, "");
	cr_assert_eq(calendar_day_kind(cal, D(2026, 11, 28), &name),
	    CALENDAR_REST_DAY);
	/* The National Day week: its weekend is a holiday, not a rest day. */
	cr_assert_eq(calendar_day_kind(cal, D(2026, 10, 1), &name),
	    CALENDAR_HOLIDAY);
	cr_assert_str_eq(name, "国庆节");
	cr_assert_eq(calendar_day_kind(cal, D(2026, 10, 3), NULL),
	    CALENDAR_HOLIDAY);
	cr_assert_eq(calendar_day_kind(cal, D(2026, 10, 7), NULL),
	    CALENDAR_HOLIDAY);
	/* The day after: Thursday 10-08 is a workday again. */
	cr_assert_eq(calendar_day_kind(cal, D(2026, 10, 8), &name),
	    CALENDAR_WORKDAY);
	cr_assert_str_eq(name, "");
	/* 调休: Saturday 10-10 and Sunday 09-20 are worked. */
	cr_assert_eq(calendar_day_kind(cal, D(2026, 10, 10), &name),
	    CALENDAR_WORKDAY);
	cr_assert_str_eq(name, "国庆节调休上班");
	cr_assert_eq(calendar_day_kind(cal, D(2026, 9, 20), NULL),
	    CALENDAR_WORKDAY);
	cr_assert_eq(calendar_day_kind(cal, D(2026, 10, 11), NULL),
	    CALENDAR_REST_DAY);
	/* Friday 09-25 (中秋节) is off although a weekday. */
	cr_assert_eq(calendar_day_kind(cal, D(2026, 9, 25), NULL),
	    CALENDAR_HOLIDAY);
	calendar_free(cal);
}

Test(calendar, work_time_edges)
{
	struct calendar	*cal = office();
	static const struct {
		int	 y, m, d, h, min;
		bool	 work;
	} t[] = {
		{ 2026, 11, 26, 8, 29, false },	/* before work */
		{ 2026, 11, 26, 8, 30, true },	/* the minute work starts */
		{ 2026, 11, 26, 11, 59, true },
		{ 2026, 11, 26, 12, 0, false },	/* the minute work ends */
		{ 2026, 11, 26, 13, 29, false },	/* lunch */
		{ 2026, 11, 26, 13, 30, true },
		{ 2026, 11, 26, 17, 29, true },
		{ 2026, 11, 26, 17, 30, false },
		{ 2026, 11, 26, 0, 0, false },	/* midnight */
		{ 2026, 11, 26, 23, 59, false },
		{ 2026, 11, 28, 10, 0, false },	/* Saturday */
		{ 2026, 10, 10, 10, 0, true },	/* 调休 Saturday */
		{ 2026, 10, 2, 10, 0, false },	/* holiday */
		{ 2026, 10, 8, 8, 30, true },	/* the day after the holiday */
		{ 2026, 9, 25, 9, 0, false },	/* 中秋节, a Friday */
	};
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect_eq(calendar_is_work_time(cal, D(t[i].y, t[i].m,
		    t[i].d), HM(t[i].h, t[i].min)), t[i].work,
		    "%04d-%02d-%02d %02d:%02d", t[i].y, t[i].m, t[i].d, t[i].h,
		    t[i].min);
	cr_assert(!calendar_is_work_time(cal, D(2026, 11, 26), -1));
	cr_assert(!calendar_is_work_time(cal, D(2026, 11, 26), 1440));
	calendar_free(cal);
}

Test(calendar, minutes_to_change)
{
	struct calendar	*cal = office();
	char		 buf[64];

	/* Friday 17:00: work ends at 17:30. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 27),
	    HM(17, 0), 7), 30);
	/* Friday 18:00: next work is Monday 08:30. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 27),
	    HM(18, 0), 7), 2 * 1440 + 6 * 60 + HM(8, 30));
	/* Lunch: 90 minutes to 13:30; 11:00: an hour to lunch. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 26),
	    HM(12, 0), 7), 90);
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 26),
	    HM(11, 0), 7), 60);
	/* Midnight of a workday: 08:30 the same day. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 26), 0, 0),
	    HM(8, 30));
	/* Wednesday 09-30 evening: the holiday week follows, then Thursday
	 * 10-08 08:30 (7 days and 14 h 30 min later). */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 9, 30),
	    HM(18, 0), 14), 7 * 1440 + 6 * 60 + HM(8, 30));
	/* ... which a 3-day horizon does not reach. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 9, 30),
	    HM(18, 0), 3), -1);
	/* Friday 10-09 evening: the 调休 Saturday works. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 10, 9),
	    HM(18, 0), 7), 6 * 60 + HM(8, 30));
	cr_assert_eq(calendar_format_periods(cal, buf, sizeof(buf)),
	    strlen("08:30-12:00, 13:30-17:30"));
	cr_assert_str_eq(buf, "08:30-12:00, 13:30-17:30");
	calendar_free(cal);
}

Test(calendar, whole_day_and_no_periods)
{
	struct calendar_spec	 spec;
	struct calendar		*cal;
	char			 why[128];

	/* 24 h duty on every day: never changes. */
	memset(&spec, 0, sizeof(spec));
	spec.workdays = 0x7f;
	spec.periods[0] = (struct calendar_period){ 0, 1440 };
	spec.nperiods = 1;
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	cr_assert(calendar_is_work_time(cal, D(2026, 11, 29), 0));
	cr_assert(calendar_is_work_time(cal, D(2026, 11, 29), 1439));
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 29), 10, 30),
	    -1);
	calendar_free(cal);

	/* No periods: never working time. */
	spec.nperiods = 0;
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	cr_assert(!calendar_is_work_time(cal, D(2026, 11, 26), HM(10, 0)));
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 26), 0, 30),
	    -1);
	calendar_free(cal);
}

static void
bad_spec(const struct calendar_spec *spec, const char *want)
{
	char	why[256] = "";

	cr_assert_null(calendar_new(spec, why, sizeof(why)), "want %s", want);
	cr_assert_not_null(strstr(why, want), "want \"%s\" in \"%s\"", want,
	    why);
}

Test(calendar, invalid_specs)
{
	struct calendar_spec	 spec;
	struct calendar_entry	 e[2];
	char			 longname[CALENDAR_NAME_MAX + 2];

	memset(&spec, 0, sizeof(spec));
	spec.workdays = MON_FRI;
	spec.periods[0] = (struct calendar_period){ HM(13, 0), HM(12, 0) };
	spec.nperiods = 1;
	bad_spec(&spec, "out of range or empty");
	spec.periods[0] = (struct calendar_period){ HM(8, 0), HM(12, 0) };
	spec.periods[1] = (struct calendar_period){ HM(11, 0), HM(14, 0) };
	spec.nperiods = 2;
	bad_spec(&spec, "overlap");
	spec.periods[1] = (struct calendar_period){ HM(13, 0), 1441 };
	bad_spec(&spec, "out of range");
	spec.nperiods = 1;
	spec.workdays = 0x80;
	bad_spec(&spec, "beyond Sunday");
	spec.workdays = MON_FRI;

	memset(e, 0, sizeof(e));
	e[0] = (struct calendar_entry){ { 2026, 2, 30 }, true, NULL };
	spec.entries = e;
	spec.nentries = 1;
	bad_spec(&spec, "2026-02-30 is not a valid date");
	e[0] = (struct calendar_entry){ { 2026, 10, 1 }, true, "国庆节" };
	e[1] = (struct calendar_entry){ { 2026, 10, 1 }, false, NULL };
	spec.nentries = 2;
	bad_spec(&spec, "2026-10-01 is listed twice, as a holiday and as a "
	    "workday");
	e[1].holiday = true;
	bad_spec(&spec, "2026-10-01 is listed twice");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	e[1] = (struct calendar_entry){ { 2026, 10, 2 }, true, longname };
	bad_spec(&spec, "name longer than");
	spec.nentries = CALENDAR_MAX_DATES + 1;
	bad_spec(&spec, "listed dates, at most");
}

/* The whole 2025-2026 file of ../shared, when present. */
Test(calendar, shared_holiday_file)
{
	struct calendar_entry	*e = NULL;
	struct calendar_spec	 spec;
	struct calendar		*cal;
	FILE			*fp;
	char			 line[256], type[16], name[128], why[128];
	size_t			 n = 0, holidays = 0, workdays = 0, i;
	int			 y, m, d;

	if ((fp = fopen(SHARED_HOLIDAYS, "r")) == NULL) {
		fprintf(stderr, "test_calendar: %s absent: shared holiday "
		    "file test skipped\n", SHARED_HOLIDAYS);
		cr_skip_test("%s absent", SHARED_HOLIDAYS);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		cr_assert_eq(sscanf(line, "%d-%d-%d %15s %127s", &y, &m, &d,
		    type, name), 5, "%s", line);
		e = realloc(e, (n + 1) * sizeof(*e));
		cr_assert_not_null(e);
		e[n].date = (struct calendar_date){ y, m, d };
		e[n].holiday = strcmp(type, "holiday") == 0;
		e[n].name = strdup(name);
		holidays += e[n].holiday;
		workdays += !e[n].holiday;
		n++;
	}
	fclose(fp);
	memset(&spec, 0, sizeof(spec));
	spec.workdays = MON_FRI;
	spec.periods[0] = (struct calendar_period){ HM(9, 0), HM(17, 0) };
	spec.nperiods = 1;
	spec.entries = e;
	spec.nentries = n;
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	/* Every listed holiday is off, every listed workday worked. */
	for (i = 0; i < n; i++)
		cr_expect_eq(calendar_day_kind(cal, &e[i].date, NULL),
		    e[i].holiday ? CALENDAR_HOLIDAY : CALENDAR_WORKDAY,
		    "%04d-%02d-%02d", e[i].date.year, e[i].date.month,
		    e[i].date.day);
	/* Spring Festival 2025: Sunday 01-26 worked, 01-28..02-04 off. */
	cr_expect_eq(calendar_day_kind(cal, D(2025, 1, 26), NULL),
	    CALENDAR_WORKDAY);
	cr_expect_eq(calendar_day_kind(cal, D(2025, 2, 2), NULL),
	    CALENDAR_HOLIDAY);
	cr_expect_eq(calendar_day_kind(cal, D(2025, 2, 5), NULL),
	    CALENDAR_WORKDAY);
	cr_expect_gt(holidays, 50);
	cr_expect_gt(workdays, 5);
	calendar_free(cal);
	for (i = 0; i < n; i++)
		free((char *)e[i].name);
	free(e);
}
