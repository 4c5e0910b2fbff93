/* SPDX-License-Identifier: MIT */
/*
 * eventjson.c - stored events as JSON objects and as a text view by day.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eventjson.h"
#include "jsonstream.h"
#include "rules.h"
#include "store.h"
#include "timefmt.h"
#include "util.h"

#define DEC_COORD	7	/* JSON: about 1 cm, as tripjson */
#define TXT_DEC_COORD	5	/* text: about 1 m */
#define MS_PER_S	1000
#define S_PER_DAY	86400

/* Text columns (terminal columns). */
#define COL_TIME	8	/* "21:14:05" */
#define COL_END		12	/* "08:10:00 +1d" */
#define COL_HMS		8	/* "10:41:39" */
#define COL_SEVERITY	9	/* "violation" */
#define COL_TYPE	22	/* "gnss_lost_while_moving" */
#define COL_PLACE	19	/* "-30.57230,-104.06650" mostly fits */
#define COL_FENCE	24
#define HMS_MAX_S	3.6e9

static const char *const weekdays[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	"Sunday"
};

/* v rounded to decimals places, or null when unknown. */
static json_t *
rounded(double v, int decimals)
{
	double	scale = 1.0;
	int	i;

	if (!isfinite(v))
		return json_null();
	for (i = 0; i < decimals; i++)
		scale *= 10.0;
	return json_real(round(v * scale) / scale);
}

/* The stored details as an object; {} when missing or unparsable. */
static json_t *
details_object(const char *text)
{
	json_t	*d;

	if (text == NULL)
		return json_object();
	d = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(d)) {
		json_decref(d);
		return json_object();
	}
	return d;
}

json_t *
eventjson_event(const struct store_event *ev, const char *tz)
{
	const char	*type, *sev;
	char		 start[TIMEFMT_BUFSZ], end[TIMEFMT_BUFSZ];
	bool		 open = ev->end_utc_ms == 0;
	json_t		*obj, *fence;

	type = rules_type_name(ev->type);
	sev = rules_severity_name(ev->severity);
	if (type == NULL || sev == NULL)
		return NULL;
	if (timefmt_format(ev->start_utc_ms, tz, start, sizeof(start)) ==
	    -1 || (!open && timefmt_format(ev->end_utc_ms, tz, end,
	    sizeof(end)) == -1))
		return NULL;
	/* A fence id of invalid UTF-8 would vanish: null, not abort. */
	fence = ev->fence_id[0] != '\0' ? json_string(ev->fence_id) : NULL;
	obj = json_object();
	json_object_set_new(obj, "id", json_integer((json_int_t)ev->id));
	json_object_set_new(obj, "seq", json_integer((json_int_t)ev->seq));
	json_object_set_new(obj, "end_seq", ev->end_seq != 0 ?
	    json_integer((json_int_t)ev->end_seq) : json_null());
	json_object_set_new(obj, "type", json_string(type));
	json_object_set_new(obj, "severity", json_string(sev));
	json_object_set_new(obj, "start", json_string(start));
	json_object_set_new(obj, "end", open ? json_null() :
	    json_string(end));
	json_object_set_new(obj, "trip_id", ev->trip_id != 0 ?
	    json_integer((json_int_t)ev->trip_id) : json_null());
	json_object_set_new(obj, "lat", rounded(ev->lat_deg, DEC_COORD));
	json_object_set_new(obj, "lon", rounded(ev->lon_deg, DEC_COORD));
	json_object_set_new(obj, "fence_id", fence != NULL ? fence :
	    json_null());
	json_object_set_new(obj, "details", details_object(ev->details));
	return obj;
}

/* Text view. */


/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Local day number of an RFC 3339 string "YYYY-MM-DDT...". */
static int64_t
day_number(const char *s)
{
	int	y, m, d;

	if (sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return 0;
	return days_from_civil(y, m, d);
}

static const char *
weekday_name(int64_t day)
{
	int64_t	wd = (day + 3) % 7;	/* 1970-01-01 was a Thursday */

	if (wd < 0)
		wd += 7;
	return weekdays[wd];
}

/* Seconds as h:mm:ss, right-aligned in COL_HMS; "-" unknown. */
static void
hms(char *buf, size_t size, double s)
{
	char		 tmp[48];
	long long	 total;

	if (!isfinite(s) || s < 0 || s > HMS_MAX_S) {
		snprintf(buf, size, "%*s", COL_HMS, "-");
		return;
	}
	total = llround(s);
	snprintf(tmp, sizeof(tmp), "%lld:%02lld:%02lld", total / 3600,
	    total / 60 % 60, total % 60);
	snprintf(buf, size, "%*s", COL_HMS, tmp);
}

/* A time in zone tz to the second (rounded down). */
static int
when(int64_t t_utc_ms, const char *tz, char *buf, size_t size)
{
	int64_t	ms;

	ms = t_utc_ms % MS_PER_S;
	if (ms < 0)
		ms += MS_PER_S;
	return timefmt_format(t_utc_ms - ms, tz, buf, size);
}

/* Print s, then blanks up to width columns and two more. */
static int
print_padded(FILE *fp, const char *s, int cols, int width)
{
	if (fputs(s, fp) == EOF)
		return -1;
	return fprintf(fp, "%*s", (width > cols ? width - cols : 0) + 2,
	    "") < 0 ? -1 : 0;
}

/* "ktv-1 (金色年华KTV)", "ktv-1" or "-"; *named: the name was used. */
static char *
fence_text(const struct store_event *ev, const json_t *details, bool *named,
    int *cols)
{
	const char	*name;
	char		*s, *out;

	*named = false;
	if (ev->fence_id[0] == '\0')
		return jsonstream_fit("-", 0, cols);
	name = json_string_value(json_object_get(details, "fence_name"));
	if (name != NULL && *name != '\0') {
		*named = true;
		s = xasprintf("%s (%s)", ev->fence_id, name);
	} else
		s = xstrdup(ev->fence_id);
	out = jsonstream_fit(s, 0, cols);
	free(s);
	return out;
}

static char *
details_text(json_t *details, bool drop_name, int *cols)
{
	char	*s, *out;

	if (drop_name)
		json_object_del(details, "fence_name");
	if (json_object_size(details) == 0)
		return jsonstream_fit("-", 0, cols);
	s = json_dumps(details, EVENTJSON_DUMP_FLAGS | JSON_SORT_KEYS);
	if (s == NULL)
		return jsonstream_fit("-", 0, cols);
	out = jsonstream_fit(s, EVENTJSON_DETAILS_COLS, cols);
	free(s);
	return out;
}

static int
print_event(struct eventjson_list *l, const struct store_event *ev)
{
	const char	*type, *sev;
	char		 start[TIMEFMT_BUFSZ], end[TIMEFMT_BUFSZ];
	char		 endcol[48], dur[64], place[96];
	char		*fence = NULL, *det = NULL;
	json_t		*details;
	int64_t		 sday, eday;
	bool		 open = ev->end_utc_ms == 0, named;
	int		 fcols, dcols, rc = -1;

	type = rules_type_name(ev->type);
	sev = rules_severity_name(ev->severity);
	if (type == NULL || sev == NULL)
		return -1;
	if (when(ev->start_utc_ms, l->tz, start, sizeof(start)) == -1 ||
	    (!open && when(ev->end_utc_ms, l->tz, end, sizeof(end)) == -1))
		return -1;
	sday = day_number(start);
	if (l->n == 0 || strncmp(l->day, start, 10) != 0) {
		if (fprintf(l->fp, "%.10s (%s)\n", start,
		    weekday_name(sday)) < 0)
			return -2;
		snprintf(l->day, sizeof(l->day), "%.10s", start);
	}
	if (open) {
		snprintf(endcol, sizeof(endcol), "ongoing");
		hms(dur, sizeof(dur), NAN);
	} else {
		eday = day_number(end);
		if (eday != sday)
			snprintf(endcol, sizeof(endcol), "%.8s %+lldd",
			    end + 11, (long long)(eday - sday));
		else
			snprintf(endcol, sizeof(endcol), "%.8s", end + 11);
		hms(dur, sizeof(dur), (double)(ev->end_utc_ms -
		    ev->start_utc_ms) / MS_PER_S);
	}
	if (isfinite(ev->lat_deg) && isfinite(ev->lon_deg))
		snprintf(place, sizeof(place), "%.*f,%.*f", TXT_DEC_COORD,
		    ev->lat_deg, TXT_DEC_COORD, ev->lon_deg);
	else
		snprintf(place, sizeof(place), "-");

	details = details_object(ev->details);
	fence = fence_text(ev, details, &named, &fcols);
	det = details_text(details, named, &dcols);
	json_decref(details);
	if (fprintf(l->fp, "  %-*.8s  %-*s  %s  %-*s  %-*s  %-*s  ", COL_TIME,
	    start + 11, COL_END, endcol, dur, COL_SEVERITY, sev, COL_TYPE,
	    type, COL_PLACE, place) < 0 ||
	    print_padded(l->fp, fence, fcols, COL_FENCE) == -1 ||
	    fprintf(l->fp, "%s\n", det) < 0)
		rc = -2;
	else
		rc = 0;
	free(fence);
	free(det);
	return rc;
}

static int
print_count(struct eventjson_list *l)
{
	const char	*sep = ": ";
	int		 s;

	if (fprintf(l->fp, "%llu event%s", (unsigned long long)l->n,
	    l->n == 1 ? "" : "s") < 0)
		return -1;
	for (s = EVENTJSON_SEVERITIES - 1; s >= 0; s--) {
		if (l->count[s] == 0)
			continue;
		if (fprintf(l->fp, "%s%llu %s", sep,
		    (unsigned long long)l->count[s],
		    rules_severity_name((enum rules_severity)s)) < 0)
			return -1;
		sep = ", ";
	}
	return fputc('\n', l->fp) == EOF ? -1 : 0;
}

void
eventjson_list_begin(struct eventjson_list *l, FILE *fp, const char *tz,
    bool json)
{
	memset(l, 0, sizeof(*l));
	l->fp = fp;
	l->tz = tz;
	l->json = json;
}

int
eventjson_list_add(struct eventjson_list *l, const struct store_event *ev)
{
	json_t	*obj;
	int	 rc;

	if (!l->json) {
		if ((rc = print_event(l, ev)) != 0) {
			if (rc == -1)
				l->error = 1;
			return -1;
		}
		l->count[ev->severity]++;
		l->n++;
		return 0;
	}
	if ((obj = eventjson_event(ev, l->tz)) == NULL) {
		l->error = 1;
		return -1;
	}
	if (jsonstream_element(l->fp, l->n, obj, EVENTJSON_DUMP_FLAGS) == -1)
		return -1;
	l->n++;
	return 0;
}

int
eventjson_list_end(struct eventjson_list *l)
{
	int	 rc;

	if (l->json)
		rc = jsonstream_end(l->fp, l->n, EVENTJSON_DUMP_FLAGS);
	else if (l->n == 0)
		rc = fputs("no events\n", l->fp);
	else
		rc = print_count(l);
	if (rc < 0 || fflush(l->fp) == EOF || ferror(l->fp))
		return -1;
	return 0;
}
