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
 *
 * The second half tests the config's calendar group (daemon/config.c)
 * and the shipped per-year files conf/calendar/cn-YYYY.conf: loaded
 * through config_load(), turned into a calendar with
 * config_calendar_spec(), compared with the shared list when it is
 * there.  Run from the repository root.  The golden files
 * tests/data/conf/{bad,good}_calendar*.conf are run by test_config.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "calendar.h"
#include "config.h"

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

/* Crossing midnight: a night shift 22:00-24:00 + 00:00-06:00. */
Test(calendar, night_shift_across_midnight)
{
	struct calendar_spec	 spec;
	struct calendar		*cal;
	char			 why[128], buf[64];

	memset(&spec, 0, sizeof(spec));
	spec.workdays = MON_FRI;
	spec.periods[0] = (struct calendar_period){ 0, HM(6, 0) };
	spec.periods[1] = (struct calendar_period){ HM(22, 0), 1440 };
	spec.nperiods = 2;
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	cr_assert(calendar_is_work_time(cal, D(2026, 11, 26), HM(23, 59)));
	cr_assert(calendar_is_work_time(cal, D(2026, 11, 27), 0));
	cr_assert(!calendar_is_work_time(cal, D(2026, 11, 27), HM(6, 0)));
	/* Thursday 23:00: work goes on past midnight until Friday 06:00. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 26),
	    HM(23, 0), 7), 60 + HM(6, 0));
	/* Friday 23:00: Saturday is a rest day, work ends at midnight. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 27),
	    HM(23, 0), 7), 60);
	/* The midnight ending a day is the next day's: a horizon of 0 days
	 * does not reach it, 1 day does. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 27),
	    HM(23, 0), 0), -1);
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 27),
	    HM(23, 0), 1), 60);
	/* Saturday 12:00: Monday 00:00 (36 h). */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 28),
	    HM(12, 0), 7), 36 * 60);
	/* Across the end of a year and of a month. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 12, 31),
	    HM(21, 0), 7), 60);
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 12, 31),
	    HM(23, 0), 7), 60 + HM(6, 0));
	cr_assert_eq(calendar_format_periods(cal, buf, sizeof(buf)),
	    strlen("00:00-06:00, 22:00-24:00"));
	cr_assert_str_eq(buf, "00:00-06:00, 22:00-24:00");
	calendar_free(cal);

	/* An evening period alone: midnight itself is the change. */
	spec.periods[0] = (struct calendar_period){ HM(20, 0), 1440 };
	spec.nperiods = 1;
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "%s", why);
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 26),
	    HM(21, 0), 7), 180);
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 27),
	    HM(21, 0), 7), 180);
	/* Saturday 21:00: Monday 20:00. */
	cr_assert_eq(calendar_minutes_to_change(cal, D(2026, 11, 28),
	    HM(21, 0), 7), 3 * 60 + 1440 + HM(20, 0));
	calendar_free(cal);
}

/* The config's calendar group. */

#define CONF_DIR	"tests/data/conf"
#define EXAMPLE		"conf/fleetgw.conf"
#define CN_2026		"conf/calendar/cn-2026.conf"

static char *
join_errors(const struct config_errors *errs)
{
	char	*buf = NULL;
	size_t	 len = 0, i;
	FILE	*fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	for (i = 0; i < errs->n; i++)
		fprintf(fp, "%s\n", errs->lines[i]);
	fclose(fp);
	return buf;
}

static struct config *
load_ok(const char *path)
{
	struct config_errors	 errs;
	struct config		*c;
	char			*msg;

	if ((c = config_load(path, &errs)) == NULL) {
		msg = join_errors(&errs);
		config_errors_free(&errs);
		cr_assert_fail("%s does not load:\n%s", path, msg);
	}
	return c;
}

static char *
write_tmp(const char *text)
{
	char	*path = strdup("/tmp/test_calendar_XXXXXX.conf");
	FILE	*fp;
	int	 fd;

	cr_assert_not_null(path);
	fd = mkstemps(path, strlen(".conf"));
	cr_assert(fd != -1, "mkstemps: %s", strerror(errno));
	fp = fdopen(fd, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	cr_assert(fclose(fp) == 0);
	return path;
}

static struct config *
load_text_ok(const char *text)
{
	char		*path = write_tmp(text);
	struct config	*c = load_ok(path);

	unlink(path);
	free(path);
	return c;
}

/* The error lines of text, which must not load. */
static char *
load_text_fail(const char *text)
{
	struct config_errors	 errs;
	struct config		*c;
	char			*path = write_tmp(text), *out;

	c = config_load(path, &errs);
	cr_assert_null(c, "loaded although invalid:\n%s", text);
	out = join_errors(&errs);
	config_errors_free(&errs);
	unlink(path);
	free(path);
	return out;
}

static void
expect_error(const char *calendar_group, const char *want)
{
	char	*text, *got;

	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    "calendar = {\n%s\n};\n", calendar_group) > 0);
	got = load_text_fail(text);
	cr_expect_not_null(strstr(got, want), "want \"%s\" in:\n%s", want,
	    got);
	free(got);
	free(text);
}

static struct calendar *
calendar_of(const struct config *c)
{
	struct calendar_spec	 spec;
	struct calendar		*cal;
	char			 why[256];

	config_calendar_spec(c, &spec);
	cal = calendar_new(&spec, why, sizeof(why));
	cr_assert_not_null(cal, "config passed, calendar_new refused: %s",
	    why);
	return cal;
}

static void
expect_day(const struct calendar *cal, const struct calendar_date *d,
    enum calendar_day kind, const char *name)
{
	const char	*got;

	cr_expect_eq(calendar_day_kind(cal, d, &got), kind,
	    "%04d-%02d-%02d", d->year, d->month, d->day);
	cr_expect_str_eq(got, name, "%04d-%02d-%02d", d->year, d->month,
	    d->day);
}

/* No calendar group: Monday to Friday, 08:30-12:00 and 13:30-17:30. */
Test(config_calendar, defaults)
{
	struct config	*c = load_ok(CONF_DIR "/good_minimal.conf");
	struct calendar	*cal;

	cr_expect_eq(c->calendar.workdays, MON_FRI);
	cr_assert_eq(c->calendar.nperiods, 2);
	cr_expect_eq(c->calendar.periods[0].start_min, HM(8, 30));
	cr_expect_eq(c->calendar.periods[0].end_min, HM(12, 0));
	cr_expect_eq(c->calendar.periods[1].start_min, HM(13, 30));
	cr_expect_eq(c->calendar.periods[1].end_min, HM(17, 30));
	cr_expect_eq(c->calendar.ndates, 0);
	cal = calendar_of(c);
	cr_expect(calendar_is_work_time(cal, D(2026, 10, 1), HM(9, 0)));
	cr_expect(!calendar_is_work_time(cal, D(2026, 10, 3), HM(9, 0)));
	calendar_free(cal);
	config_free(c);
}

/* The shipped example: both years' files, through the daemon's loader. */
Test(config_calendar, example_has_the_notices)
{
	struct config	*c = load_ok(EXAMPLE);
	struct calendar	*cal = calendar_of(c);
	size_t		 i;
	int		 d;

	cr_expect_eq(c->calendar.workdays, MON_FRI);
	cr_expect_eq(c->calendar.nperiods, 2);
	/* 33 dates in 2025 and 39 in 2026 (the notices). */
	cr_expect_eq(c->calendar.ndates, 33 + 39);
	/* National Day 2026: 10-01 (Thursday) to 10-07 off, the weekend
	 * inside included; 10-08 back at work; Saturday 10-10 worked. */
	for (d = 1; d <= 7; d++)
		expect_day(cal, D(2026, 10, d), CALENDAR_HOLIDAY, "国庆节");
	expect_day(cal, D(2026, 10, 8), CALENDAR_WORKDAY, "");
	expect_day(cal, D(2026, 10, 9), CALENDAR_WORKDAY, "");
	expect_day(cal, D(2026, 10, 10), CALENDAR_WORKDAY, "国庆节调休上班");
	expect_day(cal, D(2026, 10, 11), CALENDAR_REST_DAY, "");
	expect_day(cal, D(2026, 9, 20), CALENDAR_WORKDAY, "国庆节调休上班");
	expect_day(cal, D(2026, 2, 14), CALENDAR_WORKDAY, "春节调休上班");
	expect_day(cal, D(2026, 2, 23), CALENDAR_HOLIDAY, "春节");
	expect_day(cal, D(2025, 10, 8), CALENDAR_HOLIDAY, "国庆节、中秋节");
	expect_day(cal, D(2025, 10, 11), CALENDAR_WORKDAY, "国庆节调休上班");
	cr_expect(calendar_is_work_time(cal, D(2026, 10, 10), HM(11, 59)));
	cr_expect(!calendar_is_work_time(cal, D(2026, 10, 2), HM(10, 0)));
	/* Wednesday 2026-09-30 18:00 to Thursday 10-08 08:30. */
	cr_expect_eq(calendar_minutes_to_change(cal, D(2026, 9, 30),
	    HM(18, 0), 14), 7 * 1440 + 6 * 60 + HM(8, 30));
	/* Sorted, and where each date is written. */
	for (i = 1; i < c->calendar.ndates; i++)
		cr_expect(c->calendar.dates[i - 1].date.year * 10000 +
		    c->calendar.dates[i - 1].date.month * 100 +
		    c->calendar.dates[i - 1].date.day <
		    c->calendar.dates[i].date.year * 10000 +
		    c->calendar.dates[i].date.month * 100 +
		    c->calendar.dates[i].date.day, "dates[%zu]", i);
	for (i = 0; i < c->calendar.ndates; i++)
		if (c->calendar.dates[i].date.year == 2026)
			cr_expect_str_eq(c->calendar.dates[i].file,
			    CN_2026);
	calendar_free(cal);
	config_free(c);
}

/* Copy src to dst (small text files). */
static void
copy_file(const char *src, const char *dst)
{
	FILE	*in, *out;
	char	 buf[4096];
	size_t	 n;

	in = fopen(src, "rb");
	cr_assert_not_null(in, "%s: %s", src, strerror(errno));
	out = fopen(dst, "wb");
	cr_assert_not_null(out, "%s: %s", dst, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	cr_assert(fclose(out) == 0);
}

/*
 * cn-2026.conf on its own, as an administrator would use it: next to a
 * main file in a directory of its own, @included from the group.  It
 * holds 2026 only, and 2026 exactly as the shared list has it.
 */
Test(config_calendar, cn_2026_on_its_own)
{
	char		 dir[] = "/tmp/test_calendar_XXXXXX";
	char		 sub[64], main_conf[96], inc[96];
	struct config	*c;
	struct calendar	*cal;
	FILE		*fp;
	size_t		 i, holidays = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/calendar", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(inc, sizeof(inc), "%s/cn-2026.conf", sub);
	copy_file(CN_2026, inc);
	snprintf(main_conf, sizeof(main_conf), "%s/fleetgw.conf", dir);
	fp = fopen(main_conf, "w");
	cr_assert_not_null(fp);
	fputs("device = { id = \"SC-0001\"; };\n"
	    "calendar = {\n"
	    "\t@include \"calendar/cn-2026.conf\"\n"
	    "};\n", fp);
	cr_assert(fclose(fp) == 0);
	c = load_ok(main_conf);
	cal = calendar_of(c);
	cr_expect_eq(c->calendar.ndates, 39);
	for (i = 0; i < c->calendar.ndates; i++) {
		cr_expect_eq(c->calendar.dates[i].date.year, 2026);
		cr_expect_str_eq(c->calendar.dates[i].file, inc);
		holidays += c->calendar.dates[i].holiday;
	}
	cr_expect_eq(holidays, 33);
	expect_day(cal, D(2026, 10, 1), CALENDAR_HOLIDAY, "国庆节");
	expect_day(cal, D(2026, 10, 7), CALENDAR_HOLIDAY, "国庆节");
	expect_day(cal, D(2026, 10, 8), CALENDAR_WORKDAY, "");
	expect_day(cal, D(2026, 10, 10), CALENDAR_WORKDAY, "国庆节调休上班");
	/* Not in this file: 2025 follows the weekly pattern. */
	expect_day(cal, D(2025, 10, 1), CALENDAR_WORKDAY, "");
	calendar_free(cal);
	config_free(c);
	unlink(inc);
	rmdir(sub);
	unlink(main_conf);
	rmdir(dir);
}

/*
 * The shipped files hold exactly the dates, kinds and names of the
 * shared list they were generated from (scripts/gen-calendar.py).
 */
Test(config_calendar, shipped_files_match_shared_list)
{
	struct config	*c;
	FILE		*fp;
	char		 line[256], type[16], name[128];
	size_t		 n = 0, k;
	int		 y, m, d;
	bool		 found;

	if ((fp = fopen(SHARED_HOLIDAYS, "r")) == NULL) {
		fprintf(stderr, "test_calendar: %s absent: comparison of "
		    "conf/calendar/cn-YYYY.conf with it skipped\n",
		    SHARED_HOLIDAYS);
		cr_skip_test("%s absent: conf/calendar not compared",
		    SHARED_HOLIDAYS);
	}
	c = load_ok(EXAMPLE);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		cr_assert_eq(sscanf(line, "%d-%d-%d %15s %127[^\n]", &y, &m, &d,
		    type, name), 5, "%s", line);
		found = false;
		for (k = 0; k < c->calendar.ndates && !found; k++) {
			const struct config_calendar_date *e =
			    &c->calendar.dates[k];

			if (e->date.year != y || e->date.month != m ||
			    e->date.day != d)
				continue;
			found = true;
			cr_expect_eq(e->holiday, strcmp(type, "holiday") == 0,
			    "%s", line);
			cr_expect_str_eq(e->name, name, "%s", line);
		}
		cr_expect(found, "not in conf/calendar: %s", line);
		n++;
	}
	fclose(fp);
	cr_expect_eq(c->calendar.ndates, n, "conf/calendar has %zu dates, "
	    "the shared list %zu", c->calendar.ndates, n);
	config_free(c);
}

/* Each weekday name is its own bit, Monday = bit 0 (calendar.h). */
Test(config_calendar, weekday_names)
{
	static const char *const names[] = {
		"mon", "tue", "wed", "thu", "fri", "sat", "sun"
	};
	struct config	*c;
	struct calendar	*cal;
	char		*text;
	size_t		 i;

	for (i = 0; i < 7; i++) {
		cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
		    "calendar = { workdays = [ \"%s\" ]; };\n", names[i]) > 0);
		c = load_text_ok(text);
		cr_expect_eq(c->calendar.workdays, 1u << i, "%s", names[i]);
		cal = calendar_of(c);
		/* 2026-11-23 is a Monday. */
		cr_expect_eq(calendar_day_kind(cal, D(2026, 11, 23 + (int)i),
		    NULL), CALENDAR_WORKDAY, "%s", names[i]);
		cr_expect_eq(calendar_day_kind(cal, D(2026, 11,
		    23 + (int)(i + 1) % 7), NULL), CALENDAR_REST_DAY, "%s",
		    names[i]);
		calendar_free(cal);
		config_free(c);
		free(text);
	}
}

/* Every key of the group, names with quotes, a dump that loads back. */
Test(config_calendar, good_file_and_dump)
{
	struct config	*a, *b;
	struct calendar	*cal;
	char		*text = NULL, *path;
	size_t		 len = 0;
	FILE		*fp;

	a = load_ok(CONF_DIR "/good_calendar.conf");
	cr_expect_eq(a->calendar.workdays, 0x3f);	/* Monday..Saturday */
	cr_assert_eq(a->calendar.nperiods, 4);
	cr_expect_eq(a->calendar.periods[2].start_min, HM(12, 0));
	cr_expect_eq(a->calendar.periods[3].end_min, 1440);
	cr_expect_eq(a->calendar.ndates, 2 + 39 + 1 + 1);
	cal = calendar_of(a);
	expect_day(cal, D(2026, 12, 27), CALENDAR_WORKDAY,
	    "\"quoted\" \\ name");
	expect_day(cal, D(2026, 11, 28), CALENDAR_HOLIDAY, "");
	expect_day(cal, D(2027, 1, 1), CALENDAR_HOLIDAY, "元旦");
	expect_day(cal, D(2026, 12, 5), CALENDAR_WORKDAY, "");	/* Saturday */
	expect_day(cal, D(2025, 9, 28), CALENDAR_WORKDAY, "国庆节调休上班");
	/* 12:00-13:00 follows 08:00-12:00: no change at noon. */
	cr_expect_eq(calendar_minutes_to_change(cal, D(2026, 12, 1),
	    HM(11, 0), 1), 120);
	calendar_free(cal);

	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_dump(a, fp);
	fclose(fp);
	cr_expect_not_null(strstr(text, "calendar = {\n\tworkdays = [ \"mon\", "
	    "\"tue\", \"wed\", \"thu\", \"fri\", \"sat\" ];\n\twork_hours = "
	    "[ \"00:00-06:00\", \"08:00-12:00\", \"12:00-13:00\", "
	    "\"22:00-24:00\" ];\n\tholidays = [\n\t\t\"2026-01-01 元旦\",\n"),
	    "%s", text);
	cr_expect_not_null(strstr(text, "\t\t\"2026-12-27 \\\"quoted\\\" "
	    "\\\\ name\"\n\t];\n};\n"), "%s", text);
	cr_expect_null(strstr(text, "_2026"), "%s", text);
	path = write_tmp(text);
	b = load_ok(path);
	cr_expect(config_equal(a, b), "dump does not load back:\n%s", text);
	unlink(path);
	free(path);
	free(text);
	config_free(b);
	config_free(a);

	/* Defaults dump as such, empty arrays included. */
	a = load_ok(CONF_DIR "/good_minimal.conf");
	text = NULL;
	fp = open_memstream(&text, &len);
	cr_assert_not_null(fp);
	config_dump(a, fp);
	fclose(fp);
	cr_expect_not_null(strstr(text, "\tholidays = [ ];\n"
	    "\textra_workdays = [ ];\n};\n"), "%s", text);
	free(text);
	config_free(a);
}

/* config_equal() sees each part of the group. */
Test(config_calendar, equal_sees_calendar)
{
	static const char *const variants[] = {
		"workdays = [ \"mon\", \"tue\", \"wed\", \"thu\" ];",
		"workdays = [ ];",
		"work_hours = [ \"08:30-12:00\", \"13:30-17:31\" ];",
		"work_hours = [ \"08:30-12:00\" ];",
		"holidays = [ \"2026-10-01 国庆节\", \"2026-10-02\" ];",
		"holidays = [ \"2026-10-01 国庆\", \"2026-10-02 国庆节\" ];",
		"holidays = [ \"2026-10-01 国庆节\", \"2026-10-03 国庆节\" ];",
		"holidays = [ \"2026-10-01 国庆节\" ];\n"
		    "extra_workdays = [ \"2026-10-02 国庆节\" ];",
	};
	static const char base_text[] = "device = { id = \"SC-0001\"; };\n"
	    "calendar = { holidays = [ \"2026-10-01 国庆节\", "
	    "\"2026-10-02 国庆节\" ]; };\n";
	struct config	*base, *c;
	char		*text;
	size_t		 i;

	base = load_text_ok(base_text);
	c = load_text_ok("device = { id = \"SC-0001\"; };\n"
	    "calendar = {\n\tholidays_2026 = [ \"2026-10-02 国庆节\" ];\n"
	    "\tholidays = [ \"2026-10-01 国庆节\" ];\n"
	    "\twork_hours = [ \"08:30-12:00\", \"13:30-17:30\" ];\n};\n");
	cr_expect(config_equal(base, c), "the same dates, written otherwise");
	config_free(c);
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
		    "calendar = {\n%s\n};\n", variants[i]) > 0);
		c = load_text_ok(text);
		cr_expect(!config_equal(base, c), "not noticed: %s",
		    variants[i]);
		config_free(c);
		free(text);
	}
	config_free(base);
}

/* A calendar group of n dates from 2000-01-01 on, in one array. */
static char *
many_dates(size_t n)
{
	struct calendar_date	 d = { 2000, 1, 1 };
	char			*text = NULL;
	size_t			 len = 0, i;
	FILE			*fp = open_memstream(&text, &len);

	cr_assert_not_null(fp);
	fprintf(fp, "device = { id = \"SC-0001\"; };\ncalendar = {\n"
	    "holidays = [");
	for (i = 0; i < n; i++) {
		fprintf(fp, "%s\"%04d-%02d-%02d\"", i > 0 ? ", " : "", d.year,
		    d.month, d.day);
		calendar_date_next(&d);
	}
	fprintf(fp, " ];\n};\n");
	fclose(fp);
	return text;
}

/* What the golden files do not show. */
Test(config_calendar, errors)
{
	struct config	*c;
	char		 group[256], name[CALENDAR_NAME_MAX + 2];
	char		*text, *got;

	/* A name of 64 bytes is fine, 65 is not. */
	memset(name, 'x', CALENDAR_NAME_MAX);
	name[CALENDAR_NAME_MAX] = '\0';
	cr_assert(asprintf(&text, "device = { id = \"SC-0001\"; };\n"
	    "calendar = { holidays = [ \"2026-10-01 %s\" ]; };\n", name) > 0);
	c = load_text_ok(text);
	cr_expect_str_eq(c->calendar.dates[0].name, name);
	config_free(c);
	free(text);
	strcat(name, "y");
	snprintf(group, sizeof(group), "holidays = [ \"2026-10-01 %s\" ];",
	    name);
	expect_error(group, ":3: calendar.holidays: \"2026-10-01 xxxx");
	expect_error(group, "the name is 65 bytes long, at most 64 allowed");

	expect_error("holidays = [ \"2026-10-01 a\\tb\" ];",
	    ":3: calendar.holidays: \"2026-10-01 a\\x09b\": the name contains "
	    "a control character");
	expect_error("holidays = [ \"2026-10-01 \\xe5\\x9b\" ];",
	    "\"2026-10-01 \\xe5\\x9b\": the name is not valid UTF-8");
	expect_error("extra_workdays = [ \"2026-10-10\\n\" ];",
	    "\"2026-10-10\\x0a\": expected \"YYYY-MM-DD\" or "
	    "\"YYYY-MM-DD NAME\"");
	expect_error("work_hours = [ \"00:00-01:00\", \"01:00-02:00\", "
	    "\"02:00-03:00\", \"03:00-04:00\", \"04:00-05:00\", "
	    "\"05:00-06:00\", \"06:00-07:00\", \"07:00-08:00\", "
	    "\"08:00-09:00\" ];",
	    ":3: calendar.work_hours: 9 periods, at most 8\n");
	expect_error("work_hours = [ \"08:60-09:00\" ];",
	    "\"08:60-09:00\": not a time of day");
	expect_error("work_hours = [ \"08:00-12:00 \" ];",
	    "\"08:00-12:00 \": expected HH:MM-HH:MM");
	expect_error("workdays = [ \"sun\", \"sun\" ];",
	    "calendar.workdays: \"sun\" is listed twice");
	expect_error("workdays = \"mon\";",
	    "calendar.workdays: expected an array of strings");
	expect_error("holidays_20266 = [ ];",
	    "calendar.holidays_20266: unknown key");
	expect_error("holidays_0000 = [ ];",
	    "calendar.holidays_0000: year out of range 1970..9999");
	expect_error("holidays = [ \"2026-10-01\", \"2026-10-01\" ];",
	    ":3: calendar: 2026-10-01 is listed twice (first at /tmp/");

	/* At most CALENDAR_MAX_DATES dates: one more is one error. */
	text = many_dates(CALENDAR_MAX_DATES);
	c = load_text_ok(text);
	cr_expect_eq(c->calendar.ndates, CALENDAR_MAX_DATES);
	calendar_free(calendar_of(c));
	config_free(c);
	free(text);
	text = many_dates(CALENDAR_MAX_DATES + 1);
	got = load_text_fail(text);
	cr_expect_not_null(strstr(got, ":3: calendar.holidays: more than "
	    "4096 dates in the calendar\n"), "%s", got);
	cr_expect_eq(strchr(got, '\n') + 1, got + strlen(got), "one line: %s",
	    got);
	free(got);
	free(text);
}

/* fleetgwd --help-config lists the group's keys after the table. */
Test(config_calendar, help_config)
{
	static const char *const keys[] = {
		"\ncalendar.workdays ", "\ncalendar.work_hours ",
		"\ncalendar.holidays ", "\ncalendar.extra_workdays ",
		"\ncalendar.holidays_YYYY ", "\ncalendar.extra_workdays_YYYY "
	};
	char	*text = NULL;
	size_t	 len = 0, i;
	FILE	*fp = open_memstream(&text, &len);

	cr_assert_not_null(fp);
	config_print_table(fp);
	fclose(fp);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect_not_null(strstr(text, keys[i]), "no%s", keys[i]);
	cr_expect_not_null(strstr(text, "[\"08:30-12:00\",\"13:30-17:30\"]"));
	free(text);
}
