/* SPDX-License-Identifier: MIT */
/*
 * tripjson.c - stored trips as JSON objects and as a text table.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store.h"
#include "timefmt.h"
#include "trip.h"
#include "jsonstream.h"
#include "tripjson.h"

/* Decimals kept in JSON (tripjson.h gives the reasons). */
#define DEC_DISTANCE_M	1
#define DEC_DURATION_S	3
#define DEC_SPEED	1
#define DEC_FUEL_L	3
#define DEC_COORD	7
#define DEC_ODOMETER	1

/* Text columns: width of each, and digits after the point. */
#define COL_ID		6
#define COL_TIME	25	/* "2026-03-02T21:14:05+08:00" */
#define COL_HMS		8	/* "10:41:39" */
#define COL_KM		8
#define COL_KMH		7
#define COL_FUEL	7
#define COL_ODO		9
#define TXT_DEC_KM	2
#define TXT_DEC_KMH	1
#define TXT_DEC_FUEL	2
#define TXT_DEC_ODO	1

#define MS_PER_S	1000
#define M_PER_KM	1000.0
#define S_PER_H		3600.0
#define HMS_MAX_S	3.6e9

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

json_t *
tripjson_trip(const struct store_trip *st, const char *tz)
{
	const struct trip_summary *t = &st->trip;
	const char	*why;
	char		 start[TIMEFMT_BUFSZ], end[TIMEFMT_BUFSZ];
	json_t		*obj;

	if (timefmt_format(t->start_utc_ms, tz, start, sizeof(start)) == -1 ||
	    (!st->open && timefmt_format(t->end_utc_ms, tz, end,
	    sizeof(end)) == -1))
		return NULL;
	why = st->open ? NULL : store_trip_end_name(t->ended_by);
	obj = json_object();
	json_object_set_new(obj, "id", json_integer((json_int_t)t->id));
	json_object_set_new(obj, "seq", st->open || st->seq == 0 ?
	    json_null() : json_integer((json_int_t)st->seq));
	json_object_set_new(obj, "start", json_string(start));
	json_object_set_new(obj, "end", st->open ? json_null() :
	    json_string(end));
	json_object_set_new(obj, "distance_m",
	    rounded(t->distance_m, DEC_DISTANCE_M));
	json_object_set_new(obj, "duration_s",
	    rounded(t->duration_s, DEC_DURATION_S));
	json_object_set_new(obj, "driving_s",
	    rounded(t->driving_s, DEC_DURATION_S));
	json_object_set_new(obj, "idle_s", rounded(t->idle_s, DEC_DURATION_S));
	json_object_set_new(obj, "max_speed_kmh",
	    rounded(t->max_speed_kmh, DEC_SPEED));
	json_object_set_new(obj, "avg_speed_kmh",
	    rounded(t->avg_speed_kmh, DEC_SPEED));
	json_object_set_new(obj, "fuel_used_l",
	    rounded(t->fuel_used_l, DEC_FUEL_L));
	json_object_set_new(obj, "start_lat",
	    rounded(t->start_lat_deg, DEC_COORD));
	json_object_set_new(obj, "start_lon",
	    rounded(t->start_lon_deg, DEC_COORD));
	json_object_set_new(obj, "end_lat", rounded(t->end_lat_deg, DEC_COORD));
	json_object_set_new(obj, "end_lon", rounded(t->end_lon_deg, DEC_COORD));
	json_object_set_new(obj, "odometer_start_km",
	    rounded(t->odometer_start_km, DEC_ODOMETER));
	json_object_set_new(obj, "odometer_end_km",
	    rounded(t->odometer_end_km, DEC_ODOMETER));
	json_object_set_new(obj, "ended_by", why != NULL ? json_string(why) :
	    json_null());
	json_object_set_new(obj, "gnss_gap", json_boolean(t->gnss_gap));
	json_object_set_new(obj, "towed", json_boolean(t->towed));
	return obj;
}

/* Seconds as h:mm:ss (hours unbounded), right-aligned; "-" unknown. */
static void
hms(char *buf, size_t size, double s)
{
	char		 tmp[48];
	long long	 total;

	/* Beyond a million hours is not a trip: unknown. */
	if (!isfinite(s) || s < 0 || s > HMS_MAX_S) {
		snprintf(buf, size, "%*s", COL_HMS, "-");
		return;
	}
	total = llround(s);
	snprintf(tmp, sizeof(tmp), "%lld:%02lld:%02lld", total / 3600,
	    total / 60 % 60, total % 60);
	snprintf(buf, size, "%*s", COL_HMS, tmp);
}

/* A time in zone tz to the second (rounded down), for the table. */
static int
when(int64_t t_utc_ms, const char *tz, char *buf, size_t size)
{
	int64_t	 ms;

	ms = t_utc_ms % MS_PER_S;
	if (ms < 0)
		ms += MS_PER_S;
	return timefmt_format(t_utc_ms - ms, tz, buf, size);
}

static int
print_header(FILE *fp)
{
	if (fprintf(fp, "%*s %-*s %-*s %*s %*s %*s %*s %*s %*s %*s %s\n",
	    COL_ID, "ID", COL_TIME, "START", COL_TIME, "END", COL_HMS,
	    "DURATION", COL_KM, "KM", COL_HMS, "IDLE", COL_KMH, "MAX_KMH",
	    COL_KMH, "AVG_KMH", COL_FUEL, "FUEL_L", COL_ODO, "ODO_KM",
	    "ENDED_BY") < 0)
		return -1;
	return 0;
}

static int
print_row(FILE *fp, const struct store_trip *st, const char *tz)
{
	const struct trip_summary *t = &st->trip;
	const char	*why;
	char		 start[TIMEFMT_BUFSZ], end[TIMEFMT_BUFSZ];
	char		 dur[64], km[32], idle[64], max[32], avg[32], fuel[32];
	char		 odo[32];

	if (when(t->start_utc_ms, tz, start, sizeof(start)) == -1)
		return -1;
	if (st->open)
		snprintf(end, sizeof(end), "ongoing");
	else if (when(t->end_utc_ms, tz, end, sizeof(end)) == -1)
		return -1;
	why = st->open ? NULL : store_trip_end_name(t->ended_by);
	hms(dur, sizeof(dur), t->duration_s);
	jsonstream_num(km, sizeof(km), t->distance_m / M_PER_KM, COL_KM, TXT_DEC_KM);
	hms(idle, sizeof(idle), t->idle_s);
	jsonstream_num(max, sizeof(max), t->max_speed_kmh, COL_KMH, TXT_DEC_KMH);
	jsonstream_num(avg, sizeof(avg), t->avg_speed_kmh, COL_KMH, TXT_DEC_KMH);
	jsonstream_num(fuel, sizeof(fuel), t->fuel_used_l, COL_FUEL, TXT_DEC_FUEL);
	jsonstream_num(odo, sizeof(odo), t->odometer_end_km, COL_ODO, TXT_DEC_ODO);
	if (fprintf(fp, "%*llu %-*s %-*s %s %s %s %s %s %s %s %s\n", COL_ID,
	    (unsigned long long)t->id, COL_TIME, start, COL_TIME, end, dur, km,
	    idle, max, avg, fuel, odo, why != NULL ? why : "-") < 0)
		return -1;
	return 0;
}

/* Unknown parts of a trip add nothing to the totals. */
static void
add_total(struct tripjson_list *l, const struct trip_summary *t)
{
	if (isfinite(t->duration_s))
		l->duration_s += t->duration_s;
	if (isfinite(t->distance_m))
		l->distance_m += t->distance_m;
	if (isfinite(t->driving_s))
		l->driving_s += t->driving_s;
	if (isfinite(t->idle_s))
		l->idle_s += t->idle_s;
	if (isfinite(t->max_speed_kmh) && (isnan(l->max_speed_kmh) ||
	    t->max_speed_kmh > l->max_speed_kmh))
		l->max_speed_kmh = t->max_speed_kmh;
	if (isfinite(t->fuel_used_l)) {
		l->fuel_l += t->fuel_used_l;
		l->fuel_known++;
	}
}

static int
print_total(struct tripjson_list *l)
{
	char		 label[64], dur[64], km[32], idle[64], max[32], avg[32];
	char		 fuel[48];
	double		 avg_kmh = NAN;

	snprintf(label, sizeof(label), "total: %llu trip%s",
	    (unsigned long long)l->n, l->n == 1 ? "" : "s");
	hms(dur, sizeof(dur), l->duration_s);
	jsonstream_num(km, sizeof(km), l->distance_m / M_PER_KM, COL_KM, TXT_DEC_KM);
	hms(idle, sizeof(idle), l->idle_s);
	jsonstream_num(max, sizeof(max), l->max_speed_kmh, COL_KMH, TXT_DEC_KMH);
	if (l->driving_s > 0)
		avg_kmh = l->distance_m / M_PER_KM / (l->driving_s / S_PER_H);
	jsonstream_num(avg, sizeof(avg), avg_kmh, COL_KMH, TXT_DEC_KMH);
	if (l->fuel_known == 0)
		jsonstream_num(fuel, sizeof(fuel), NAN, COL_FUEL, TXT_DEC_FUEL);
	else if (l->fuel_known == l->n)
		jsonstream_num(fuel, sizeof(fuel), l->fuel_l, COL_FUEL, TXT_DEC_FUEL);
	else
		/* Some trips have no figure: at least this much. */
		snprintf(fuel, sizeof(fuel), "%*.*f+", COL_FUEL - 1,
		    TXT_DEC_FUEL, l->fuel_l);
	if (fprintf(l->fp, "%-*s %s %s %s %s %s %s\n",
	    COL_ID + COL_TIME * 2 + 2, label, dur, km, idle, max, avg,
	    fuel) < 0)
		return -1;
	return 0;
}

void
tripjson_list_begin(struct tripjson_list *l, FILE *fp, const char *tz,
    bool json)
{
	memset(l, 0, sizeof(*l));
	l->fp = fp;
	l->tz = tz;
	l->json = json;
	l->max_speed_kmh = NAN;
}

int
tripjson_list_add(struct tripjson_list *l, const struct store_trip *t)
{
	json_t	*obj;

	if (!l->json) {
		if (l->n == 0 && print_header(l->fp) == -1)
			return -1;
		if (print_row(l->fp, t, l->tz) == -1) {
			l->error = 1;
			return -1;
		}
		add_total(l, &t->trip);
		l->n++;
		return 0;
	}
	if ((obj = tripjson_trip(t, l->tz)) == NULL) {
		l->error = 1;
		return -1;
	}
	if (jsonstream_element(l->fp, l->n, obj, TRIPJSON_DUMP_FLAGS) == -1)
		return -1;
	l->n++;
	return 0;
}

int
tripjson_list_end(struct tripjson_list *l)
{
	int	 rc;

	if (l->json)
		rc = jsonstream_end(l->fp, l->n, TRIPJSON_DUMP_FLAGS);
	else if (l->n == 0)
		rc = fputs("no trips\n", l->fp);
	else
		rc = print_total(l);
	if (rc < 0 || fflush(l->fp) == EOF || ferror(l->fp))
		return -1;
	return 0;
}
