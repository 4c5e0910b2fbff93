/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - dispatch orders (派车单) from and to JSON, and their text
 * table.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dispatch.h"
#include "fence.h"
#include "geo.h"
#include "jsonstream.h"
#include "rules.h"
#include "store.h"
#include "timefmt.h"
#include "util.h"

#define MS_PER_S	1000
#define DEC_COORD	7	/* JSON: about 1 cm */
#define DEC_RADIUS	1
#define TXT_DEC_COORD	5	/* text: about 1 m */
#define PURPOSE_COLS	40	/* text: longer purposes are cut */

/* The members an order object may have. */
static const char *const order_members[] = {
	"id", "valid_from", "valid_to", "dest", "dest_fence",
	"corridor_fence", "purpose", "approver"
};
static const char *const dest_members[] = { "lon", "lat", "radius_m",
	"crs" };

static int
why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Members of obj not in known[0..n), as "\"a\", \"b\"" in buf; the
 * number of them.
 */
static size_t
unknown_members(const json_t *obj, const char *const *known, size_t n,
    char *buf, size_t size)
{
	const char	*key;
	json_t		*v;
	size_t		 i, bad = 0, len;

	buf[0] = '\0';
	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i < n)
			continue;
		len = strlen(buf);
		if (len + 1 < size)
			snprintf(buf + len, size - len, "%s\"%.40s\"",
			    bad > 0 ? ", " : "", key);
		bad++;
	}
	return bad;
}

int
dispatch_id_valid(const char *id)
{
	size_t	len;

	if (id == NULL)
		return -1;
	len = strlen(id);
	if (len < 1 || len > RULES_ORDER_ID_MAX)
		return -1;
	for (; *id != '\0'; id++)
		if (*id <= ' ' || *id >= 0x7f || *id == '/' || *id == '\\')
			return -1;
	return 0;
}

/*
 * A text member: string (or, when optional, null or absent) of min..max
 * bytes without control characters, copied to out.  0 or -1 (why set).
 */
static int
text_member(const json_t *o, const char *name, bool required, size_t min,
    size_t max, char *out, size_t outsize, char *why, size_t whylen)
{
	const json_t	*v = json_object_get(o, name);
	const char	*s;
	size_t		 len, i;

	out[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (required)
			return why_set(why, whylen, "\"%s\" is missing", name);
		return 0;
	}
	if (!json_is_string(v))
		return why_set(why, whylen, "\"%s\" must be a string", name);
	s = json_string_value(v);
	len = json_string_length(v);
	if (!required && len == 0)
		return 0;
	if (len < min || len > max)
		return why_set(why, whylen, "\"%s\" must be %zu to %zu bytes "
		    "long, not %zu", name, min, max, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return why_set(why, whylen, "\"%s\" contains a control "
			    "character", name);
	if (len >= outsize)	/* the limits above keep within out */
		return why_set(why, whylen, "\"%s\" is too long", name);
	memcpy(out, s, len + 1);
	return 0;
}

static int
time_member(const json_t *o, const char *name, const char *tz, int64_t *t,
    char *why, size_t whylen)
{
	const json_t	*v = json_object_get(o, name);
	char		 err[128], buf[TIMEFMT_BUFSZ];

	if (v == NULL || json_is_null(v))
		return why_set(why, whylen, "\"%s\" is missing", name);
	if (!json_is_string(v))
		return why_set(why, whylen, "\"%s\" must be a time string",
		    name);
	if (timefmt_parse(json_string_value(v), tz, t, err, sizeof(err)) ==
	    -1)
		return why_set(why, whylen, "\"%s\": \"%.40s\": %s", name,
		    json_string_value(v), err);
	/* An offset can carry it out of the zone's years 0000-9999, and
	 * then dispatch_to_json() and the listings could not show it. */
	if (timefmt_format(*t, tz, buf, sizeof(buf)) == -1)
		return why_set(why, whylen, "\"%s\": \"%.40s\": out of range "
		    "in zone %s", name, json_string_value(v), tz);
	return 0;
}

static int
number_member(const json_t *o, const char *name, double min, double max,
    double *out, char *why, size_t whylen)
{
	const json_t	*v = json_object_get(o, name);

	if (v == NULL)
		return why_set(why, whylen, "\"dest\": \"%s\" is missing",
		    name);
	if (!json_is_number(v))
		return why_set(why, whylen, "\"dest\": \"%s\" must be a "
		    "number", name);
	*out = json_number_value(v);
	if (!(*out >= min && *out <= max))
		return why_set(why, whylen, "\"dest\": \"%s\" must be "
		    "between %g and %g", name, min, max);
	return 0;
}

static int
dest_member(const json_t *o, struct rules_order *r, char *why,
    size_t whylen)
{
	const json_t	*d = json_object_get(o, "dest"), *c;
	enum geo_crs	 crs = GEO_CRS_WGS84;
	double		 lon, lat, radius, wlon, wlat;
	char		 bad[160];
	size_t		 n;

	r->has_dest_point = false;
	if (d == NULL || json_is_null(d))
		return 0;
	if (!json_is_object(d))
		return why_set(why, whylen, "\"dest\" must be an object "
		    "{\"lon\", \"lat\", \"radius_m\", \"crs\"} or null");
	if ((n = unknown_members(d, dest_members, NELEM(dest_members), bad,
	    sizeof(bad))) > 0)
		return why_set(why, whylen, "\"dest\": unknown member%s %s",
		    n > 1 ? "s" : "", bad);
	if (number_member(d, "lon", -180.0, 180.0, &lon, why, whylen) == -1 ||
	    number_member(d, "lat", -90.0, 90.0, &lat, why, whylen) == -1 ||
	    number_member(d, "radius_m", DISPATCH_RADIUS_MIN_M,
	    DISPATCH_RADIUS_MAX_M, &radius, why, whylen) == -1)
		return -1;
	if ((c = json_object_get(d, "crs")) != NULL && !json_is_null(c) &&
	    (!json_is_string(c) || geo_crs_parse(json_string_value(c),
	    &crs) == -1))
		return why_set(why, whylen, "\"dest\": \"crs\" must be "
		    "\"wgs84\", \"cgcs2000\", \"gcj02\" or \"bd09\"");
	geo_to_wgs84(crs, lon, lat, &wlon, &wlat);
	if (!isfinite(wlon) || !isfinite(wlat))
		return why_set(why, whylen, "\"dest\": the point cannot be "
		    "converted to WGS-84");
	/* BD-09's shift moves points at the edges by ~0.0065 degree. */
	if (wlon < -180.0 || wlon > 180.0 || wlat < -90.0 || wlat > 90.0)
		return why_set(why, whylen, "\"dest\": the point is out of "
		    "range in WGS-84");
	r->has_dest_point = true;
	r->dest_lon = wlon;
	r->dest_lat = wlat;
	r->dest_radius_m = radius;
	return 0;
}

int
dispatch_from_json(const json_t *o, const char *tz, struct store_order *out,
    char *why, size_t whylen)
{
	struct rules_order	*r = &out->o;
	const json_t		*v;
	char			 bad[160];
	size_t			 n;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		return why_set(why, whylen, "the order must be a JSON object");
	if ((n = unknown_members(o, order_members, NELEM(order_members), bad,
	    sizeof(bad))) > 0)
		return why_set(why, whylen, "unknown member%s %s in the order",
		    n > 1 ? "s" : "", bad);

	v = json_object_get(o, "id");
	if (v == NULL)
		return why_set(why, whylen, "\"id\" is missing");
	if (!json_is_string(v) || json_string_length(v) != strlen(
	    json_string_value(v)) || dispatch_id_valid(json_string_value(v)) ==
	    -1)
		return why_set(why, whylen, "\"id\" must be 1 to %d printable "
		    "ASCII characters without blanks or slashes",
		    RULES_ORDER_ID_MAX);
	util_strlcpy(r->id, json_string_value(v), sizeof(r->id));

	if (time_member(o, "valid_from", tz, &r->valid_from_ms, why,
	    whylen) == -1 || time_member(o, "valid_to", tz, &r->valid_to_ms,
	    why, whylen) == -1)
		return -1;
	if (r->valid_to_ms <= r->valid_from_ms)
		return why_set(why, whylen, "\"valid_to\" must be after "
		    "\"valid_from\"");
	if (r->valid_to_ms - r->valid_from_ms >
	    (int64_t)DISPATCH_WINDOW_MAX_S * MS_PER_S)
		return why_set(why, whylen, "the window from \"valid_from\" to "
		    "\"valid_to\" is longer than %d days",
		    DISPATCH_WINDOW_MAX_S / (24 * 3600));

	if (dest_member(o, r, why, whylen) == -1 ||
	    text_member(o, "dest_fence", false, 1, FENCE_ID_MAX,
	    r->dest_fence, sizeof(r->dest_fence), why, whylen) == -1 ||
	    text_member(o, "corridor_fence", false, 1, FENCE_ID_MAX,
	    r->corridor_fence, sizeof(r->corridor_fence), why, whylen) == -1 ||
	    text_member(o, "purpose", true, 1, DISPATCH_PURPOSE_MAX,
	    out->purpose, sizeof(out->purpose), why, whylen) == -1 ||
	    text_member(o, "approver", true, 1, DISPATCH_APPROVER_MAX,
	    out->approver, sizeof(out->approver), why, whylen) == -1)
		return -1;
	return 0;
}

/* v rounded to decimals places. */
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

static json_t *
id_or_null(const char *s)
{
	return *s != '\0' ? json_string(s) : json_null();
}

json_t *
dispatch_to_json(const struct store_order *so, const char *tz)
{
	const struct rules_order *r = &so->o;
	char		 from[TIMEFMT_BUFSZ], to[TIMEFMT_BUFSZ];
	char		 created[TIMEFMT_BUFSZ];
	json_t		*obj, *dest, *s;

	if (timefmt_format(r->valid_from_ms, tz, from, sizeof(from)) == -1 ||
	    timefmt_format(r->valid_to_ms, tz, to, sizeof(to)) == -1 ||
	    (so->created_utc_ms != 0 && timefmt_format(so->created_utc_ms, tz,
	    created, sizeof(created)) == -1))
		return NULL;
	dest = json_null();
	if (r->has_dest_point) {
		dest = json_object();
		json_object_set_new(dest, "lon", rounded(r->dest_lon,
		    DEC_COORD));
		json_object_set_new(dest, "lat", rounded(r->dest_lat,
		    DEC_COORD));
		json_object_set_new(dest, "radius_m", rounded(r->dest_radius_m,
		    DEC_RADIUS));
	}
	obj = json_object();
	json_object_set_new(obj, "id", json_string(r->id));
	json_object_set_new(obj, "valid_from", json_string(from));
	json_object_set_new(obj, "valid_to", json_string(to));
	json_object_set_new(obj, "dest", dest);
	json_object_set_new(obj, "dest_fence", id_or_null(r->dest_fence));
	json_object_set_new(obj, "corridor_fence",
	    id_or_null(r->corridor_fence));
	/* Strings from the store: invalid UTF-8 would make them vanish. */
	s = json_string(so->purpose);
	json_object_set_new(obj, "purpose", s != NULL ? s : json_null());
	s = json_string(so->approver);
	json_object_set_new(obj, "approver", s != NULL ? s : json_null());
	json_object_set_new(obj, "source", so->source[0] != '\0' ?
	    json_string(so->source) : json_null());
	json_object_set_new(obj, "created", so->created_utc_ms != 0 ?
	    json_string(created) : json_null());
	return obj;
}

/* Text table. */


enum {
	COL_ID,
	COL_FROM,
	COL_TO,
	COL_DEST,
	COL_PURPOSE,
	COL_APPROVER,
	COL_SOURCE,
	NCOLS
};

static const char *const col_names[NCOLS] = {
	"ID", "FROM", "TO", "DEST", "PURPOSE", "APPROVER", "SOURCE"
};

struct dispatch_row {
	char	*cell[NCOLS];
	int	 cols[NCOLS];
};

/* "YYYY-MM-DD HH:MM[:SS]" in zone tz (seconds cut); 0 or -1. */
static int
local_minute(int64_t t_utc_ms, const char *tz, char *buf, size_t size)
{
	char	 s[TIMEFMT_BUFSZ];
	int64_t	 ms;

	ms = t_utc_ms % MS_PER_S;
	if (ms < 0)
		ms += MS_PER_S;
	if (timefmt_format(t_utc_ms - ms, tz, s, sizeof(s)) == -1)
		return -1;
	/* s is "YYYY-MM-DDTHH:MM:SS+HH:MM" */
	if (strncmp(s + 16, ":00", 3) == 0)
		snprintf(buf, size, "%.10s %.5s", s, s + 11);
	else
		snprintf(buf, size, "%.10s %.8s", s, s + 11);
	return 0;
}

static char *
dest_text(const struct rules_order *r)
{
	char	 buf[512];
	size_t	 len;

	buf[0] = '\0';
	if (r->has_dest_point)
		snprintf(buf, sizeof(buf), "%.*f,%.*f r=%.0f m", TXT_DEC_COORD,
		    r->dest_lon, TXT_DEC_COORD, r->dest_lat, r->dest_radius_m);
	if (r->dest_fence[0] != '\0') {
		len = strlen(buf);
		snprintf(buf + len, sizeof(buf) - len, "%sfence %s",
		    len > 0 ? ", " : "", r->dest_fence);
	}
	if (r->corridor_fence[0] != '\0') {
		len = strlen(buf);
		snprintf(buf + len, sizeof(buf) - len, "%scorridor %s",
		    len > 0 ? ", " : "", r->corridor_fence);
	}
	if (buf[0] == '\0')
		return xstrdup("-");
	return xstrdup(buf);
}

static void
row_free(struct dispatch_row *row)
{
	int	i;

	for (i = 0; i < NCOLS; i++)
		free(row->cell[i]);
}

static int
row_make(struct dispatch_row *row, const struct store_order *so,
    const char *tz)
{
	char	 from[TIMEFMT_BUFSZ], to[TIMEFMT_BUFSZ], *dest;
	int	 i;

	if (local_minute(so->o.valid_from_ms, tz, from, sizeof(from)) == -1 ||
	    local_minute(so->o.valid_to_ms, tz, to, sizeof(to)) == -1)
		return -1;
	dest = dest_text(&so->o);
	row->cell[COL_ID] = jsonstream_fit(so->o.id, 0, &row->cols[COL_ID]);
	row->cell[COL_FROM] = jsonstream_fit(from, 0, &row->cols[COL_FROM]);
	row->cell[COL_TO] = jsonstream_fit(to, 0, &row->cols[COL_TO]);
	row->cell[COL_DEST] = jsonstream_fit(dest, 0, &row->cols[COL_DEST]);
	row->cell[COL_PURPOSE] = jsonstream_fit(so->purpose, PURPOSE_COLS,
	    &row->cols[COL_PURPOSE]);
	row->cell[COL_APPROVER] = jsonstream_fit(so->approver, 0,
	    &row->cols[COL_APPROVER]);
	row->cell[COL_SOURCE] = jsonstream_fit(so->source[0] != '\0' ? so->source : "-",
	    0, &row->cols[COL_SOURCE]);
	free(dest);
	for (i = 0; i < NCOLS; i++)
		if (row->cell[i][0] == '\0') {
			free(row->cell[i]);
			row->cell[i] = jsonstream_fit("-", 0, &row->cols[i]);
		}
	return 0;
}

/* One line of the table; the last column is not padded. */
static int
print_line(FILE *fp, char *const *cell, const int *cols, const int *width)
{
	int	i;

	for (i = 0; i < NCOLS; i++) {
		if (fputs(cell[i], fp) == EOF)
			return -1;
		if (i == NCOLS - 1)
			break;
		if (fprintf(fp, "%*s", width[i] - cols[i] + 2, "") < 0)
			return -1;
	}
	return fputc('\n', fp) == EOF ? -1 : 0;
}

static int
print_table(struct dispatch_list *l)
{
	int	 width[NCOLS], hcols[NCOLS];
	uint64_t r;
	int	 i;

	for (i = 0; i < NCOLS; i++)
		width[i] = hcols[i] = (int)strlen(col_names[i]);
	for (r = 0; r < l->n; r++)
		for (i = 0; i < NCOLS; i++)
			if (l->rows[r].cols[i] > width[i])
				width[i] = l->rows[r].cols[i];
	if (print_line(l->fp, (char *const *)col_names, hcols, width) == -1)
		return -1;
	for (r = 0; r < l->n; r++)
		if (print_line(l->fp, l->rows[r].cell, l->rows[r].cols,
		    width) == -1)
			return -1;
	if (fprintf(l->fp, "%llu order%s\n", (unsigned long long)l->n,
	    l->n == 1 ? "" : "s") < 0)
		return -1;
	return 0;
}

void
dispatch_list_begin(struct dispatch_list *l, FILE *fp, const char *tz,
    bool json)
{
	memset(l, 0, sizeof(*l));
	l->fp = fp;
	l->tz = tz;
	l->json = json;
}

int
dispatch_list_add(struct dispatch_list *l, const struct store_order *so)
{
	json_t	*obj;

	if (!l->json) {
		if (l->n == l->cap) {
			l->cap = l->cap == 0 ? 16 : l->cap * 2;
			l->rows = xreallocarray(l->rows, l->cap,
			    sizeof(*l->rows));
		}
		if (row_make(&l->rows[l->n], so, l->tz) == -1) {
			l->error = 1;
			return -1;
		}
		l->n++;
		return 0;
	}
	if ((obj = dispatch_to_json(so, l->tz)) == NULL) {
		l->error = 1;
		return -1;
	}
	if (jsonstream_element(l->fp, l->n, obj, DISPATCH_DUMP_FLAGS) == -1)
		return -1;
	l->n++;
	return 0;
}

void
dispatch_list_free(struct dispatch_list *l)
{
	uint64_t	r;

	for (r = 0; r < l->n && l->rows != NULL; r++)
		row_free(&l->rows[r]);
	free(l->rows);
	l->rows = NULL;
	l->cap = 0;
}

int
dispatch_list_end(struct dispatch_list *l)
{
	int	rc;

	if (l->json)
		rc = jsonstream_end(l->fp, l->n, DISPATCH_DUMP_FLAGS);
	else if (l->n == 0)
		rc = fputs("no orders\n", l->fp);
	else
		rc = print_table(l);
	dispatch_list_free(l);
	if (rc < 0 || fflush(l->fp) == EOF || ferror(l->fp))
		return -1;
	return 0;
}
