/* SPDX-License-Identifier: MIT */
/*
 * posjson.c - stored positions as JSON objects and as a text table.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "posjson.h"
#include "record.h"
#include "store.h"
#include "timefmt.h"

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
#define DEC_DEG		6	/* ~0.1 m */
#define DEC_SMALL	1

#define POSJSON_LINE_MAX	1024	/* an element is about 300 bytes */

static json_t *
real_or_null(double v)
{
	/* jansson refuses NaN and infinities; both mean "unknown" here. */
	return isfinite(v) ? json_real(v) : json_null();
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
	json_t			*obj;

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
	return obj;
}

int
posjson_print_header(FILE *fp)
{
	if (fprintf(fp, "%*s %-*s %*s %*s %*s %*s %*s %*s %*s %s\n",
	    COL_SEQ, "SEQ", COL_TIME, "TIME", COL_LAT, "LAT", COL_LON, "LON",
	    COL_ALT, "ALT_M", COL_KMH, "KM/H", COL_HDG, "HDG", COL_HDOP, "HDOP",
	    COL_SATS, "SATS", "BDS(v/u)") < 0)
		return -1;
	return 0;
}

/* A number right-aligned in width, or "-" when unknown. */
static void
num(char *buf, size_t size, double v, int width, int decimals)
{
	if (isfinite(v))
		snprintf(buf, size, "%*.*f", width, decimals, v);
	else
		snprintf(buf, size, "%*s", width, "-");
}

int
posjson_print_row(FILE *fp, const struct store_position *p, const char *tz)
{
	const struct fix	*f = &p->fix;
	const struct sat_count	*bds = &f->sys[GNSS_SYS_BEIDOU];
	char			 when[TIMEFMT_BUFSZ];
	char			 lat[32], lon[32], alt[32], kmh[32], hdg[32];
	char			 hdop[32], sats[16];

	if (timefmt_format(f->t_utc_ms, tz, when, sizeof(when)) == -1)
		return -1;
	num(lat, sizeof(lat), f->lat_deg, COL_LAT, DEC_DEG);
	num(lon, sizeof(lon), f->lon_deg, COL_LON, DEC_DEG);
	num(alt, sizeof(alt), f->alt_m, COL_ALT, DEC_SMALL);
	num(kmh, sizeof(kmh), f->speed_mps * POSJSON_KMH_PER_MPS, COL_KMH,
	    DEC_SMALL);
	num(hdg, sizeof(hdg), f->heading_deg, COL_HDG, DEC_SMALL);
	num(hdop, sizeof(hdop), f->hdop, COL_HDOP, DEC_SMALL);
	if (f->sats_used >= 0)
		snprintf(sats, sizeof(sats), "%*d", COL_SATS, f->sats_used);
	else
		snprintf(sats, sizeof(sats), "%*s", COL_SATS, "-");
	if (fprintf(fp, "%*llu %-*s %s %s %s %s %s %s %s %u/%u\n", COL_SEQ,
	    (unsigned long long)p->seq, COL_TIME, when, lat, lon, alt, kmh,
	    hdg, hdop, sats, (unsigned)bds->visible, (unsigned)bds->used) < 0)
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
	char	 buf[POSJSON_LINE_MAX];
	size_t	 len;
	int	 rc;

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
	/* Array punctuation between elements that jansson dumps. */
	if (fputs(l->n == 0 ? "[\n" : ",\n", l->fp) == EOF) {
		json_decref(obj);
		return -1;
	}
	/* One fwrite() per element: json_dumpf() writes piece by piece. */
	len = json_dumpb(obj, buf, sizeof(buf), POSJSON_DUMP_FLAGS);
	if (len > 0 && len <= sizeof(buf))
		rc = fwrite(buf, 1, len, l->fp) == len ? 0 : -1;
	else
		rc = json_dumpf(obj, l->fp, POSJSON_DUMP_FLAGS);
	json_decref(obj);
	if (rc == -1)
		return -1;
	l->n++;
	return 0;
}

int
posjson_list_end(struct posjson_list *l)
{
	json_t	*empty;
	int	 rc;

	if (l->json && l->n == 0) {
		empty = json_array();
		rc = json_dumpf(empty, l->fp, POSJSON_DUMP_FLAGS);
		json_decref(empty);
		if (rc == 0)
			rc = fputs("\n", l->fp);
	} else if (l->json)
		rc = fputs("\n]\n", l->fp);
	else if (l->n == 0)
		rc = fputs("no positions\n", l->fp);
	else
		rc = fprintf(l->fp, "%llu position%s\n",
		    (unsigned long long)l->n, l->n == 1 ? "" : "s");
	if (rc < 0 || fflush(l->fp) == EOF || ferror(l->fp))
		return -1;
	return 0;
}
