/* SPDX-License-Identifier: MIT */
/*
 * posjson.c - stored positions as JSON objects and as a text table.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "jsonstream.h"
#include "posjson.h"
#include "record.h"
#include "store.h"
#include "timefmt.h"
#include "util.h"

/* Text columns: width of each, and digits after the point. */
#define COL_SEQ		10
#define COL_TIME	29	/* "2026-03-02T21:14:05.250+08:00" */
#define COL_LAT		10	/* "-90.000000" */
#define COL_LON		11	/* "-180.000000" */
#define COL_ALT		7
#define COL_KMH		6
#define COL_HDG		5
#define COL_HDOP	5
#define COL_SATS	4
#define COL_RPM		5	/* "16384" */
#define COL_FUEL	5	/* "100.0" */
#define DEC_DEG		6	/* ~0.1 m */
#define DEC_SMALL	1
#define DEC_RPM		0


static json_t *
real_or_null(double v)
{
	/* jansson refuses NaN and infinities; both mean "unknown" here. */
	return isfinite(v) ? json_real(v) : json_null();
}

/*
 * OBD members: name, offset in struct obd_sample and decimals kept.  The
 * decimals follow what J1979 resolves (rpm in 1/4, MAF in 1/100 g/s,
 * battery in mV, fuel rate in 1/20 L/h or estimated), so rounding drops
 * only binary noise and the fractions of percent scaling (100/255).
 */
#define OBD_REAL(field, decimals)					\
	{ #field, offsetof(struct obd_sample, field), decimals }

static const struct {
	const char	*name;
	size_t		 off;
	int		 decimals;
} posjson_obd_reals[] = {
	OBD_REAL(rpm, 2),
	OBD_REAL(speed_kmh, 1),
	OBD_REAL(coolant_c, 1),
	OBD_REAL(intake_c, 1),
	OBD_REAL(ambient_c, 1),
	OBD_REAL(load_pct, 1),
	OBD_REAL(throttle_pct, 1),
	OBD_REAL(maf_gps, 2),
	OBD_REAL(fuel_level_pct, 1),
	OBD_REAL(fuel_rate_lph, 3),
	OBD_REAL(battery_v, 3),
	OBD_REAL(odometer_km, 1),
	OBD_REAL(run_time_s, 1),
};

/* v rounded to decimals places (half away from zero). */
static double
posjson_round(double v, int decimals)
{
	double	scale = 1.0;
	int	i;

	for (i = 0; i < decimals; i++)
		scale *= 10.0;
	return round(v * scale) / scale;
}

json_t *
posjson_obd(const struct obd_sample *o)
{
	json_t	*obj;
	double	 v;
	size_t	 i;

	if (!record_obd_any(o))
		return NULL;
	obj = json_object();
	for (i = 0; i < NELEM(posjson_obd_reals); i++) {
		v = *(const double *)(const void *)((const char *)o +
		    posjson_obd_reals[i].off);
		if (!isfinite(v))
			continue;
		json_object_set_new(obj, posjson_obd_reals[i].name,
		    json_real(posjson_round(v, posjson_obd_reals[i].decimals)));
	}
	/* Whether the rate was estimated means nothing without a rate. */
	if (isfinite(o->fuel_rate_lph))
		json_object_set_new(obj, "fuel_rate_estimated",
		    json_boolean(o->fuel_rate_estimated != 0));
	if (o->mil_on >= 0)
		json_object_set_new(obj, "mil_on",
		    json_boolean(o->mil_on != 0));
	return obj;
}

json_t *
posjson_constellations(const struct sat_count sys[GNSS_SYS_COUNT])
{
	json_t	*obj;
	int	 i;

	obj = json_object();
	for (i = 0; i < GNSS_SYS_COUNT; i++)
		json_object_set_new(obj, record_sys_name((enum gnss_sys)i),
		    json_pack("{s:i, s:i}", "visible", (int)sys[i].visible,
		    "used", (int)sys[i].used));
	return obj;
}

json_t *
posjson_position(const struct store_position *p, const char *tz)
{
	const struct fix	*f = &p->fix;
	char			 when[TIMEFMT_BUFSZ];
	json_t			*obj, *obd;

	if (timefmt_format(f->t_utc_ms, tz, when, sizeof(when)) == -1)
		return NULL;
	obj = json_object();
	json_object_set_new(obj, "seq", json_integer((json_int_t)p->seq));
	json_object_set_new(obj, "time", json_string(when));
	json_object_set_new(obj, "lat", real_or_null(f->lat_deg));
	json_object_set_new(obj, "lon", real_or_null(f->lon_deg));
	json_object_set_new(obj, "alt_m", real_or_null(f->alt_m));
	json_object_set_new(obj, "speed_kmh",
	    real_or_null(f->speed_mps * POSJSON_KMH_PER_MPS));
	json_object_set_new(obj, "heading_deg", real_or_null(f->heading_deg));
	json_object_set_new(obj, "hdop", real_or_null(f->hdop));
	json_object_set_new(obj, "sats_used", f->sats_used >= 0 ?
	    json_integer(f->sats_used) : json_null());
	json_object_set_new(obj, "constellations",
	    posjson_constellations(f->sys));
	if ((obd = posjson_obd(&p->obd)) != NULL)
		json_object_set_new(obj, "obd", obd);
	return obj;
}

int
posjson_print_header(FILE *fp)
{
	if (fprintf(fp, "%*s %-*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %s\n",
	    COL_SEQ, "SEQ", COL_TIME, "TIME", COL_LAT, "LAT", COL_LON, "LON",
	    COL_ALT, "ALT_M", COL_KMH, "KM/H", COL_HDG, "HDG", COL_HDOP, "HDOP",
	    COL_SATS, "SATS", COL_RPM, "RPM", COL_FUEL, "FUEL%",
	    "BDS(v/u)") < 0)
		return -1;
	return 0;
}

int
posjson_print_row(FILE *fp, const struct store_position *p, const char *tz)
{
	const struct fix	*f = &p->fix;
	const struct sat_count	*bds = &f->sys[GNSS_SYS_BEIDOU];
	char			 when[TIMEFMT_BUFSZ];
	char			 lat[32], lon[32], alt[32], kmh[32], hdg[32];
	char			 hdop[32], sats[16], rpm[32], fuel[32];

	if (timefmt_format(f->t_utc_ms, tz, when, sizeof(when)) == -1)
		return -1;
	jsonstream_num(lat, sizeof(lat), f->lat_deg, COL_LAT, DEC_DEG);
	jsonstream_num(lon, sizeof(lon), f->lon_deg, COL_LON, DEC_DEG);
	jsonstream_num(alt, sizeof(alt), f->alt_m, COL_ALT, DEC_SMALL);
	jsonstream_num(kmh, sizeof(kmh), f->speed_mps * POSJSON_KMH_PER_MPS, COL_KMH,
	    DEC_SMALL);
	jsonstream_num(hdg, sizeof(hdg), f->heading_deg, COL_HDG, DEC_SMALL);
	jsonstream_num(hdop, sizeof(hdop), f->hdop, COL_HDOP, DEC_SMALL);
	if (f->sats_used >= 0)
		snprintf(sats, sizeof(sats), "%*d", COL_SATS, f->sats_used);
	else
		snprintf(sats, sizeof(sats), "%*s", COL_SATS, "-");
	jsonstream_num(rpm, sizeof(rpm), p->obd.rpm, COL_RPM, DEC_RPM);
	jsonstream_num(fuel, sizeof(fuel), p->obd.fuel_level_pct, COL_FUEL, DEC_SMALL);
	if (fprintf(fp, "%*llu %-*s %s %s %s %s %s %s %s %s %s %u/%u\n",
	    COL_SEQ, (unsigned long long)p->seq, COL_TIME, when, lat, lon, alt,
	    kmh, hdg, hdop, sats, rpm, fuel, (unsigned)bds->visible,
	    (unsigned)bds->used) < 0)
		return -1;
	return 0;
}

void
posjson_list_begin(struct posjson_list *l, FILE *fp, const char *tz,
    bool json)
{
	l->fp = fp;
	l->tz = tz;
	l->json = json;
	l->n = 0;
	l->error = 0;
}

int
posjson_list_add(struct posjson_list *l, const struct store_position *p)
{
	json_t	*obj;

	if (!l->json) {
		if (l->n == 0 && posjson_print_header(l->fp) == -1)
			return -1;
		if (posjson_print_row(l->fp, p, l->tz) == -1) {
			l->error = 1;
			return -1;
		}
		l->n++;
		return 0;
	}
	if ((obj = posjson_position(p, l->tz)) == NULL) {
		l->error = 1;
		return -1;
	}
	if (jsonstream_element(l->fp, l->n, obj, POSJSON_DUMP_FLAGS) == -1)
		return -1;
	l->n++;
	return 0;
}

int
posjson_list_end(struct posjson_list *l)
{
	int	 rc;

	if (l->json)
		rc = jsonstream_end(l->fp, l->n, POSJSON_DUMP_FLAGS);
	else if (l->n == 0)
		rc = fputs("no positions\n", l->fp);
	else
		rc = fprintf(l->fp, "%llu position%s\n",
		    (unsigned long long)l->n, l->n == 1 ? "" : "s");
	if (rc < 0 || fflush(l->fp) == EOF || ferror(l->fp))
		return -1;
	return 0;
}
