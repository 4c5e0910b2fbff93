/* SPDX-License-Identifier: MIT */
/*
 * report.c - the inspector's HTML report with an inline SVG map; see
 * report.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fence.h"
#include "geo.h"
#include "log.h"
#include "report.h"
#include "rules.h"
#include "timefmt.h"
#include "util.h"

#define DEG_TO_RAD	(M_PI / 180.0)
#define M_PER_DEG	(GEO_EARTH_RADIUS_M * DEG_TO_RAD)

#define LEGEND_ROW_H	24.0	/* legend strip below the map, units */
#define LEGEND_ITEM_W	164.0
#define LEGEND_PAD	8.0
#define LEGEND_MAX_DAYS	14	/* days listed in the legend, then "+N" */
#define SCALE_MAX_PX	180.0	/* longest scale bar */
#define CLIP_MARGIN_PX	20.0	/* fences are clipped this far outside */
#define LABEL_FONT	12.0	/* map labels, units */
#define LABEL_CHAR_W	7.0	/* average width of a label character */
#define CORNER_LABELS	6	/* fences covering the map, listed top left */
#define FENCE_LIST_MAX	60	/* rows of the "fences on the map" table */
#define TRACK_WIDTH	3.5
#define MARKER_R	8.0

#define NSEV	(RULES_CRITICAL + 1)
#define NTYPES	RULES_TYPE_COUNT

/* Track colours by local day, cycled; no red, green or amber (markers). */
static const char *const day_colours[] = {
	REPORT_DAY_COLOUR0, "#00897b", "#5e35b1", "#6d4c41", "#c2185b",
	"#827717", "#455a64"
};

/* Stroke and fill of each fence kind (enum fence_kind order). */
static const struct {
	const char	*kind;
	const char	*colour;
	double		 fill_opacity;
	bool		 dashed;
} fence_styles[] = {
	{ "region",	 "#78909c", 0.0,  true },
	{ "forbidden",	 "#e65100", 0.15, false },
	{ "parking",	 "#0097a7", 0.15, false },
	{ "office",	 "#7b1fa2", 0.12, false },
	{ "destination", "#388e3c", 0.12, false },
};

#define START_COLOUR	"#2e7d32"
#define END_COLOUR	"#212121"

struct rpos {
	int64_t		t;
	double		lat, lon;
};

struct revent {
	struct store_event ev;		/* details points to text below */
	char		*text;		/* the details, owned */
	int		 marker;	/* number on the map, 0 none */
};

/* A fence from the daemon's reply: a circle, or only its bbox. */
struct rfence {
	char		*id;
	char		*name;
	char		*kind;
	char		*shape;
	bool		 circle;
	double		 west, south, east, north;
	double		 clon, clat, radius_m;
};

/* A fence drawn, for the table under the map. */
struct drawn {
	const char	*id;
	const char	*name;
	const char	*kind;
	const char	*shape;
	bool		 bbox_only;
	double		 west, south, east, north;
};

/* A placed label, to keep the next ones off it. */
struct box {
	double		x0, y0, x1, y1;
};

struct report {
	struct report_opts	 o;
	char			*strs[10];	/* copies behind o */

	struct rpos		*pos;
	size_t			 npos, cappos;
	struct store_trip	*trips;
	size_t			 ntrips, captrips;
	struct revent		*evs;
	size_t			 nevs, capevs;

	const struct fence_set	*set;
	struct rfence		*fi;
	size_t			 nfi, capfi;

	/* Set up by report_write(). */
	FILE			*fp;
	int			 bad_time;
	char			 (*days)[12];	/* "YYYY-MM-DD", sorted */
	size_t			 ndays;
	bool			 have_map;
	struct report_proj	 proj;
	double			 view_w, view_s, view_e, view_n;
	struct drawn		*drawn;
	size_t			 ndrawn, capdrawn;
	bool			 bbox_only;
	struct box		*boxes;
	size_t			 nboxes, capboxes;
	int			 corner;
	struct report_counts	 counts;
};

/* ------------------------------------------------------------ helpers */

static char *
dup_or_null(struct report *r, size_t slot, const char *s)
{
	if (s == NULL)
		return NULL;
	r->strs[slot] = xstrdup(s);
	return r->strs[slot];
}

struct report *
report_new(const struct report_opts *opts)
{
	struct report	*r = xcalloc(1, sizeof(*r));

	r->o = *opts;
	r->o.vehicle.device_id = dup_or_null(r, 0, opts->vehicle.device_id);
	r->o.vehicle.plate = dup_or_null(r, 1, opts->vehicle.plate);
	r->o.vehicle.unit = dup_or_null(r, 2, opts->vehicle.unit);
	r->o.vehicle.vehicle_class = dup_or_null(r, 3,
	    opts->vehicle.vehicle_class);
	r->o.vehicle.vin = dup_or_null(r, 4, opts->vehicle.vin);
	r->o.tz = dup_or_null(r, 5, opts->tz != NULL ? opts->tz : "UTC");
	r->o.source = dup_or_null(r, 6, opts->source);
	r->o.fences_from = dup_or_null(r, 7, opts->fences_from);
	r->o.fences_note = dup_or_null(r, 8, opts->fences_note);
	return r;
}

void
report_free(struct report *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < NELEM(r->strs); i++)
		free(r->strs[i]);
	free(r->pos);
	free(r->trips);
	for (i = 0; i < r->nevs; i++)
		free(r->evs[i].text);
	free(r->evs);
	for (i = 0; i < r->nfi; i++) {
		free(r->fi[i].id);
		free(r->fi[i].name);
		free(r->fi[i].kind);
		free(r->fi[i].shape);
	}
	free(r->fi);
	free(r->days);
	free(r->drawn);
	free(r->boxes);
	free(r);
}

/* Room for one more element of an array of size sz. */
static void *
grow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap == 0 ? 64 : *cap * 2;
	return xreallocarray(p, *cap, sz);
}

int
report_add_position(struct report *r, const struct store_position *p)
{
	if (r->npos >= REPORT_MAX_POSITIONS)
		return -1;
	if (!isfinite(p->fix.lat_deg) || !isfinite(p->fix.lon_deg))
		return 0;
	r->pos = grow(r->pos, &r->cappos, r->npos, sizeof(*r->pos));
	r->pos[r->npos].t = p->fix.t_utc_ms;
	r->pos[r->npos].lat = p->fix.lat_deg;
	r->pos[r->npos].lon = p->fix.lon_deg;
	r->npos++;
	return 0;
}

size_t
report_positions(const struct report *r)
{
	return r->npos;
}

int
report_add_trip(struct report *r, const struct store_trip *t)
{
	r->trips = grow(r->trips, &r->captrips, r->ntrips, sizeof(*r->trips));
	r->trips[r->ntrips++] = *t;
	return 0;
}

int
report_add_event(struct report *r, const struct store_event *ev)
{
	struct revent	*e;

	if ((unsigned)ev->type >= NTYPES || (unsigned)ev->severity >= NSEV)
		return -1;
	r->evs = grow(r->evs, &r->capevs, r->nevs, sizeof(*r->evs));
	e = &r->evs[r->nevs++];
	memset(e, 0, sizeof(*e));
	e->ev = *ev;
	e->text = xstrdup(ev->details != NULL ? ev->details : "{}");
	e->ev.details = e->text;
	return 0;
}

void
report_set_fences(struct report *r, const struct fence_set *set)
{
	r->set = set;
}

static char *
json_str_dup(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return xstrdup(s != NULL ? s : "");
}

int
report_add_fence_info(struct report *r, const json_t *info)
{
	const json_t	*bbox, *center, *radius;
	struct rfence	*f;
	double		 v[4];
	size_t		 i;

	bbox = json_object_get(info, "bbox");
	if (!json_is_string(json_object_get(info, "id")) ||
	    !json_is_array(bbox) || json_array_size(bbox) != 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if (!json_is_number(json_array_get(bbox, i)))
			return -1;
		v[i] = json_number_value(json_array_get(bbox, i));
		if (!isfinite(v[i]))
			return -1;
	}
	r->fi = grow(r->fi, &r->capfi, r->nfi, sizeof(*r->fi));
	f = &r->fi[r->nfi++];
	memset(f, 0, sizeof(*f));
	f->id = json_str_dup(info, "id");
	f->name = json_str_dup(info, "name");
	f->kind = json_str_dup(info, "kind");
	f->shape = json_str_dup(info, "shape");
	f->west = v[0];
	f->south = v[1];
	f->east = v[2];
	f->north = v[3];
	center = json_object_get(info, "center");
	radius = json_object_get(info, "radius_m");
	if (strcmp(f->shape, "circle") == 0 && json_is_array(center) &&
	    json_array_size(center) == 2 &&
	    json_is_number(json_array_get(center, 0)) &&
	    json_is_number(json_array_get(center, 1)) &&
	    json_is_number(radius) && json_number_value(radius) > 0) {
		f->circle = true;
		f->clon = json_number_value(json_array_get(center, 0));
		f->clat = json_number_value(json_array_get(center, 1));
		f->radius_m = json_number_value(radius);
	}
	return 0;
}

void
report_get_counts(const struct report *r, struct report_counts *c)
{
	*c = r->counts;
}

/* ------------------------------------------------------- pure pieces */

void
report_proj_fit(struct report_proj *p, double west, double south,
    double east, double north, double w_px, double h_px)
{
	double	w_m, h_m, avail_w, avail_h;

	memset(p, 0, sizeof(*p));
	p->lon0 = (west + east) / 2.0;
	p->lat0 = (south + north) / 2.0;
	p->coslat = cos(p->lat0 * DEG_TO_RAD);
	if (p->coslat < 0.01)
		p->coslat = 0.01;	/* near a pole: keep x finite */
	w_m = (east - west) * M_PER_DEG * p->coslat;
	h_m = (north - south) * M_PER_DEG;
	if (w_m < REPORT_MIN_SPAN_M)
		w_m = REPORT_MIN_SPAN_M;
	if (h_m < REPORT_MIN_SPAN_M)
		h_m = REPORT_MIN_SPAN_M;
	avail_w = w_px * (1.0 - 2.0 * REPORT_MARGIN_FRAC);
	avail_h = h_px * (1.0 - 2.0 * REPORT_MARGIN_FRAC);
	p->px_per_m = fmin(avail_w / w_m, avail_h / h_m);
	p->cx = w_px / 2.0;
	p->cy = h_px / 2.0;
	p->w = w_px;
	p->h = h_px;
}

void
report_proj_xy(const struct report_proj *p, double lon_deg, double lat_deg,
    double *x, double *y)
{
	*x = p->cx + (lon_deg - p->lon0) * M_PER_DEG * p->coslat * p->px_per_m;
	*y = p->cy - (lat_deg - p->lat0) * M_PER_DEG * p->px_per_m;
}

void
report_proj_lonlat(const struct report_proj *p, double x, double y,
    double *lon_deg, double *lat_deg)
{
	*lon_deg = p->lon0 + (x - p->cx) / (p->px_per_m * M_PER_DEG *
	    p->coslat);
	*lat_deg = p->lat0 - (y - p->cy) / (p->px_per_m * M_PER_DEG);
}

double
report_scale_bar(double m_per_px, double max_px, double *len_px,
    char *label, size_t labelsz)
{
	static const double	steps[] = { 5.0, 2.0, 1.0 };
	double			max_m = m_per_px * max_px, dec, len = 1.0;
	size_t			i;

	if (!(max_m >= 1.0)) {
		len = 1.0;	/* less than a metre fits: show one anyway */
	} else {
		dec = pow(10.0, floor(log10(max_m)));
		for (i = 0; i < NELEM(steps); i++)
			if (steps[i] * dec <= max_m * (1.0 + 1e-12)) {
				len = steps[i] * dec;
				break;
			}
	}
	*len_px = len / m_per_px;
	if (labelsz > 0) {
		if (len >= 1000.0)
			snprintf(label, labelsz, "%.0f km", len / 1000.0);
		else
			snprintf(label, labelsz, "%.0f m", len);
	}
	return len;
}

/* Length of the UTF-8 sequence at s (1..4), or 0 if it is not valid. */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char	c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;	/* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;	/* overlong, above U+10FFFF */
		return 4;
	}
	return 0;
}

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

char *
report_html_escape(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*rep;
	char			*out;
	size_t			 cap, n = 0, k, rl;

	cap = strlen(s) * 6 + 1;	/* "&quot;" is the longest per byte */
	out = xmalloc(cap);
	while (*p != '\0') {
		rep = NULL;
		k = 1;
		switch (*p) {
		case '&':	rep = "&amp;"; break;
		case '<':	rep = "&lt;"; break;
		case '>':	rep = "&gt;"; break;
		case '"':	rep = "&quot;"; break;
		case '\'':	rep = "&#39;"; break;
		case '/':	rep = "&#47;"; break;	/* no "//" from data */
		case ':':
			if (p[1] == '/')
				rep = "&#58;";	/* nor "http:" + "/" */
			break;
		case '\t':
		case '\n':	break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				rep = REPLACEMENT;
			else if (*p >= 0x80) {
				k = utf8_len(p);
				if (k == 0) {
					rep = REPLACEMENT;
					k = 1;
				} else if (k == 2 && p[0] == 0xc2 &&
				    p[1] < 0xa0)
					rep = REPLACEMENT;	/* C1 */
			}
			break;
		}
		if (rep != NULL) {
			rl = strlen(rep);
			memcpy(out + n, rep, rl);
			n += rl;
		} else {
			memcpy(out + n, p, k);
			n += k;
		}
		p += k;
	}
	out[n] = '\0';
	return out;
}

int
report_fputs_html(FILE *fp, const char *s)
{
	char	*e = report_html_escape(s != NULL ? s : "");
	int	 rc;

	rc = fputs(e, fp) == EOF ? -1 : 0;
	free(e);
	return rc;
}

size_t
report_decimate(double *xy, size_t n, double min_px)
{
	double	lx, ly, dx, dy, min2 = min_px * min_px;
	size_t	i, m;

	if (n <= 2)
		return n;
	lx = xy[0];
	ly = xy[1];
	m = 1;
	for (i = 1; i + 1 < n; i++) {
		dx = xy[2 * i] - lx;
		dy = xy[2 * i + 1] - ly;
		if (dx * dx + dy * dy < min2)
			continue;
		lx = xy[2 * m] = xy[2 * i];
		ly = xy[2 * m + 1] = xy[2 * i + 1];
		m++;
	}
	/* The last point always stays: it is where the trip ended. */
	xy[2 * m] = xy[2 * (n - 1)];
	xy[2 * m + 1] = xy[2 * (n - 1) + 1];
	return m + 1;
}

/* Append s (len bytes) to the buffer *b of *n bytes (capacity *cap). */
static void
buf_add(char **b, size_t *n, size_t *cap, const char *s, size_t len)
{
	while (*n + len + 1 > *cap) {
		*cap = *cap == 0 ? 128 : *cap * 2;
		*b = xreallocarray(*b, *cap, 1);
	}
	memcpy(*b + *n, s, len);
	*n += len;
	(*b)[*n] = '\0';
}

char *
report_details_summary(const char *json_text, size_t max)
{
	json_t		*o, *v;
	const char	*key;
	char		*b = NULL, *d, num[64];
	size_t		 n = 0, cap = 0, cut;

	buf_add(&b, &n, &cap, "", 0);
	o = json_text != NULL ? json_loads(json_text, 0, NULL) : NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		return b;
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "fence_name") == 0)
			continue;
		if (n > 0)
			buf_add(&b, &n, &cap, "; ", 2);
		buf_add(&b, &n, &cap, key, strlen(key));
		buf_add(&b, &n, &cap, ": ", 2);
		d = NULL;
		switch (json_typeof(v)) {
		case JSON_STRING:
			buf_add(&b, &n, &cap, json_string_value(v),
			    json_string_length(v));
			break;
		case JSON_INTEGER:
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			buf_add(&b, &n, &cap, num, strlen(num));
			break;
		case JSON_REAL:
			snprintf(num, sizeof(num), "%.6g", json_real_value(v));
			buf_add(&b, &n, &cap, num, strlen(num));
			break;
		default:
			d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			if (d != NULL)
				buf_add(&b, &n, &cap, d, strlen(d));
			free(d);
			break;
		}
		if (n > max)
			break;
	}
	json_decref(o);
	if (n > max) {
		/*
		 * Cut at a character boundary (b is UTF-8: jansson's
		 * strings are), leaving room for "...".
		 */
		cut = max >= 3 ? max - 3 : 0;
		while (cut > 0 && ((unsigned char)b[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(b + cut, "...", 4);
	}
	return b;
}

/* ----------------------------------------------------- data helpers */

static int
pos_cmp(const void *a, const void *b)
{
	const struct rpos	*x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

/* First position with t >= t0 (positions sorted). */
static size_t
pos_lower(const struct report *r, int64_t t0)
{
	size_t	lo = 0, hi = r->npos, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->pos[mid].t < t0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Local RFC 3339 text of t; "?" (and bad_time) when it cannot be. */
static void
loc(struct report *r, int64_t t, char buf[TIMEFMT_BUFSZ])
{
	if (timefmt_format(t, r->o.tz, buf, TIMEFMT_BUFSZ) == -1) {
		r->bad_time = 1;
		util_strlcpy(buf, "XXXX-XX-XXTXX:XX:XX", TIMEFMT_BUFSZ);
	}
}

/* "YYYY-MM-DD" of t in the zone. */
static void
loc_date(struct report *r, int64_t t, char out[12])
{
	char	b[TIMEFMT_BUFSZ];

	loc(r, t, b);
	memcpy(out, b, 10);
	out[10] = '\0';
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static long
days_from_civil(long y, long m, long d)
{
	long	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Days since 1970-01-01 of "YYYY-MM-DD..."; 0 and false if malformed. */
static bool
date_days(const char *s, long *days)
{
	long	y, m, d;

	if (sscanf(s, "%4ld-%2ld-%2ld", &y, &m, &d) != 3)
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

/*
 * "HH:MM:SS" (or "HH:MM" when hm) of t, with " +Nd" when t falls N
 * local days after the date day0 ("YYYY-MM-DD", NULL: never).
 */
static void
loc_time(struct report *r, int64_t t, const char *day0, bool hm,
    char *out, size_t outsz)
{
	char	b[TIMEFMT_BUFSZ];
	long	d0, d1;

	loc(r, t, b);
	snprintf(out, outsz, "%.*s", hm ? 5 : 8, b + 11);
	if (day0 == NULL || strncmp(b, day0, 10) == 0)
		return;
	if (date_days(day0, &d0) && date_days(b, &d1) && d1 != d0)
		snprintf(out + strlen(out), outsz - strlen(out), " %+ldd",
		    d1 - d0);
}

/* "Monday" ... for "YYYY-MM-DD". */
static const char *
weekday(const char *date)
{
	static const char *const names[] = { "Thursday", "Friday",
		"Saturday", "Sunday", "Monday", "Tuesday", "Wednesday" };
	long	z;

	if (!date_days(date, &z))
		return "";
	return names[((z % 7) + 7) % 7];	/* 1970-01-01: a Thursday */
}

/* "1:02:03" */
static void
hms(double s, char *out, size_t outsz)
{
	long	t = isfinite(s) && s > 0 ? lround(s) : 0;

	snprintf(out, outsz, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
	    t % 60);
}

static int
day_index(const struct report *r, const char *date)
{
	size_t	i;

	for (i = 0; i < r->ndays; i++)
		if (strcmp(r->days[i], date) == 0)
			return (int)i;
	return -1;
}

static void
add_day(struct report *r, const char *date)
{
	size_t	i, cap = r->ndays;

	if (day_index(r, date) >= 0)
		return;
	r->days = xreallocarray(r->days, cap + 1, sizeof(*r->days));
	for (i = r->ndays; i > 0 && strcmp(r->days[i - 1], date) > 0; i--)
		memcpy(r->days[i], r->days[i - 1], sizeof(r->days[i]));
	util_strlcpy(r->days[i], date, sizeof(r->days[i]));
	r->ndays++;
}

static const char *
day_colour(int day)
{
	return day_colours[(day < 0 ? 0 : (size_t)day) % NELEM(day_colours)];
}

static size_t
kind_style(const char *kind)
{
	size_t	i;

	for (i = 0; i < NELEM(fence_styles); i++)
		if (strcmp(fence_styles[i].kind, kind) == 0)
			return i;
	return 0;
}

static bool
is_marked(const struct store_event *ev)
{
	return ev->severity >= RULES_WARNING && isfinite(ev->lat_deg) &&
	    isfinite(ev->lon_deg);
}

/*
 * The fence (not a region: every place is in one) that covers a point,
 * for "from" and "to": its id and name, or NULL.
 */
static bool
place_of(const struct report *r, double lat, double lon, const char **id,
    const char **name)
{
	const struct fence_info	*fi;
	uint32_t		 idx[16];
	size_t			 i, n;

	if (!isfinite(lat) || !isfinite(lon))
		return false;
	if (r->set != NULL) {
		n = fence_set_query(r->set, lon, lat, idx, NELEM(idx));
		for (i = 0; i < n && i < NELEM(idx); i++) {
			fi = fence_set_info(r->set, idx[i]);
			if (fi == NULL || fi->kind == FENCE_REGION)
				continue;
			*id = fi->id;
			*name = fi->name;
			return true;
		}
	}
	for (i = 0; i < r->nfi; i++) {
		if (!r->fi[i].circle || strcmp(r->fi[i].kind, "region") == 0)
			continue;
		if (geo_distance_m(lat, lon, r->fi[i].clat, r->fi[i].clon) <=
		    r->fi[i].radius_m) {
			*id = r->fi[i].id;
			*name = r->fi[i].name;
			return true;
		}
	}
	return false;
}

/* ----------------------------------------------------------- writing */

static void
out(struct report *r, const char *fmt, ...) __attribute__((format(printf,
    2, 3)));

static void
out(struct report *r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfprintf(r->fp, fmt, ap);
	va_end(ap);
}

static void
esc(struct report *r, const char *s)
{
	report_fputs_html(r->fp, s);
}

/* Known text or a dash. */
static void
esc_or_dash(struct report *r, const char *s)
{
	if (s == NULL || *s == '\0')
		out(r, "&#8211;");
	else
		esc(r, s);
}

/*
 * The style sheet.  Fonts: system fonts only, Latin first, then the CJK
 * families of Linux, Windows and macOS; no @font-face, nothing to load.
 * Print: A4 portrait, the map scaled to the page width and kept on one
 * page, table headers repeated on each page, rows never split.
 */
static void
write_head(struct report *r)
{
	out(r, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta name=\"generator\" content=\"fleetgwctl report\">\n"
	    "<title>");
	esc(r, "Vehicle report ");
	esc_or_dash(r, r->o.vehicle.plate != NULL &&
	    *r->o.vehicle.plate != '\0' ? r->o.vehicle.plate :
	    r->o.vehicle.device_id);
	out(r, "</title>\n<style>\n"
	    "@page { size: A4 portrait; margin: 12mm 11mm 14mm 11mm; }\n"
	    "html { -webkit-print-color-adjust: exact; "
	    "print-color-adjust: exact; }\n"
	    "body { font-family: \"DejaVu Sans\", \"Noto Sans\", Arial, "
	    "\"Noto Sans CJK SC\", \"Source Han Sans SC\", "
	    "\"WenQuanYi Zen Hei\", \"WenQuanYi Micro Hei\", "
	    "\"Microsoft YaHei\", \"PingFang SC\", \"Hiragino Sans GB\", "
	    "SimHei, sans-serif; font-size: 10.5pt; color: #222; "
	    "line-height: 1.35; max-width: 1100px; margin: 0 auto; "
	    "padding: 8px 16px; }\n"
	    "h1 { font-size: 16pt; margin: 4px 0 6px; }\n"
	    "h2 { font-size: 13pt; margin: 16px 0 4px; border-bottom: 1px "
	    "solid #90a4ae; break-after: avoid; page-break-after: avoid; }\n"
	    "h3 { font-size: 11pt; margin: 10px 0 3px; break-after: avoid; "
	    "page-break-after: avoid; }\n"
	    "table { border-collapse: collapse; width: 100%%; "
	    "margin: 3px 0 8px; }\n"
	    "th, td { border: 1px solid #b0bec5; padding: 2px 5px; "
	    "text-align: left; vertical-align: top; }\n"
	    "th { background: #eceff1; font-weight: 600; }\n"
	    "thead { display: table-header-group; }\n"
	    "tr { break-inside: avoid; page-break-inside: avoid; }\n"
	    "td.n, th.n { text-align: right; white-space: nowrap; "
	    "font-variant-numeric: tabular-nums; }\n"
	    "td.t { white-space: nowrap; font-variant-numeric: "
	    "tabular-nums; }\n"
	    "table.kv { width: auto; min-width: 50%%; }\n"
	    "table.kv th { width: 11em; }\n"
	    ".cols { display: flex; gap: 16px; flex-wrap: wrap; }\n"
	    ".cols > div { flex: 1 1 300px; }\n"
	    ".note { color: #546e7a; font-size: 9pt; margin: 2px 0 6px; }\n"
	    ".sev-violation, .sev-critical { color: #b00000; "
	    "font-weight: 600; }\n"
	    ".sev-warning { color: #8a5a00; }\n"
	    ".details { overflow-wrap: anywhere; font-size: 9pt; }\n"
	    ".mapbox { break-inside: avoid; page-break-inside: avoid; "
	    "margin: 6px 0; }\n"
	    "svg#map { display: block; width: 100%%; height: auto; }\n"
	    "svg text { font-family: inherit; }\n"
	    ".day { break-before: auto; }\n"
	    "@media print {\n"
	    "  body { max-width: none; padding: 0; font-size: 9pt; }\n"
	    "  h2 { margin-top: 10px; }\n"
	    "}\n"
	    "</style>\n</head>\n<body>\n");
}

static void
kv_row(struct report *r, const char *label, const char *value)
{
	out(r, "<tr><th>");
	esc(r, label);
	out(r, "</th><td>");
	esc_or_dash(r, value);
	out(r, "</td></tr>\n");
}

static void
period_text(struct report *r, char *buf, size_t bufsz)
{
	char	a[TIMEFMT_BUFSZ], b[TIMEFMT_BUFSZ];

	if (r->o.from_utc_ms == INT64_MIN)
		util_strlcpy(a, "the first record", sizeof(a));
	else
		loc(r, r->o.from_utc_ms, a);
	if (r->o.to_utc_ms == INT64_MAX)
		util_strlcpy(b, "the last record", sizeof(b));
	else
		loc(r, r->o.to_utc_ms, b);
	snprintf(buf, bufsz, "%s to %s", a, b);
}

static void
write_header(struct report *r)
{
	const struct report_vehicle	*v = &r->o.vehicle;
	char				 buf[2 * TIMEFMT_BUFSZ + 64];
	char				 gen[TIMEFMT_BUFSZ];

	out(r, "<header>\n<h1>");
	esc(r, "公务用车行驶报告 · Vehicle report ");
	esc_or_dash(r, v->plate != NULL && *v->plate != '\0' ? v->plate :
	    v->device_id);
	out(r, "</h1>\n<table class=\"kv\" id=\"vehicle\">\n");
	kv_row(r, "Device id", v->device_id);
	kv_row(r, "Plate 车牌", v->plate);
	kv_row(r, "Unit 单位", v->unit);
	kv_row(r, "Class", v->vehicle_class);
	kv_row(r, "VIN", v->vin);
	period_text(r, buf, sizeof(buf));
	out(r, "<tr><th>Period</th><td id=\"period\">");
	esc(r, buf);
	out(r, " <span class=\"note\">(start included, end excluded; "
	    "times in ");
	esc(r, r->o.tz);
	out(r, ")</span></td></tr>\n");
	loc(r, r->o.generated_utc_ms, gen);
	kv_row(r, "Generated", gen);
	kv_row(r, "Data", r->o.source);
	out(r, "</table>\n</header>\n");
}

struct type_count {
	int	type;
	size_t	n;
};

static int
type_count_cmp(const void *a, const void *b)
{
	const struct type_count	*x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(rules_type_name((enum rules_type)x->type),
	    rules_type_name((enum rules_type)y->type));
}

/* Table of event counts by type for severities [lo, hi]. */
static void
type_table(struct report *r, const char *id, const char *title, int lo,
    int hi)
{
	struct type_count	tc[NTYPES];
	size_t			i, n = 0;
	int			t;

	memset(tc, 0, sizeof(tc));
	for (t = 0; t < NTYPES; t++)
		tc[t].type = t;
	for (i = 0; i < r->nevs; i++)
		if ((int)r->evs[i].ev.severity >= lo &&
		    (int)r->evs[i].ev.severity <= hi)
			tc[r->evs[i].ev.type].n++;
	qsort(tc, NTYPES, sizeof(tc[0]), type_count_cmp);
	out(r, "<div><h3>");
	esc(r, title);
	out(r, "</h3>\n<table id=\"%s\"><thead><tr><th>type</th>"
	    "<th class=\"n\">count</th></tr></thead><tbody>\n", id);
	for (t = 0; t < NTYPES && tc[t].n > 0; t++, n++)
		out(r, "<tr data-type=\"%s\" data-count=\"%zu\"><td>%s</td>"
		    "<td class=\"n\">%zu</td></tr>\n",
		    rules_type_name((enum rules_type)tc[t].type), tc[t].n,
		    rules_type_name((enum rules_type)tc[t].type), tc[t].n);
	if (n == 0)
		out(r, "<tr><td colspan=\"2\">none</td></tr>\n");
	out(r, "</tbody></table></div>\n");
}

static void
write_summary(struct report *r)
{
	double	dist = 0, drive = 0, idle = 0, dur = 0, vmax = NAN;
	size_t	i, sev[NSEV] = { 0 }, open = 0;
	char	b1[32], b2[32], b3[32];
	int	s;

	for (i = 0; i < r->ntrips; i++) {
		const struct trip_summary *t = &r->trips[i].trip;

		if (isfinite(t->distance_m))
			dist += t->distance_m;
		if (isfinite(t->driving_s))
			drive += t->driving_s;
		if (isfinite(t->idle_s))
			idle += t->idle_s;
		if (isfinite(t->duration_s))
			dur += t->duration_s;
		if (isfinite(t->max_speed_kmh) && !(t->max_speed_kmh <= vmax))
			vmax = t->max_speed_kmh;
		open += r->trips[i].open;
	}
	for (i = 0; i < r->nevs; i++)
		sev[r->evs[i].ev.severity]++;
	hms(drive, b1, sizeof(b1));
	hms(idle, b2, sizeof(b2));
	hms(dur, b3, sizeof(b3));
	out(r, "<section id=\"summary\">\n<h2>Summary 概要</h2>\n"
	    "<div class=\"cols\"><div>\n<table class=\"kv\">\n"
	    "<tr><th>Trips</th><td class=\"n\"><span id=\"sum-trips\">%zu"
	    "</span>%s</td></tr>\n"
	    "<tr><th>Distance</th><td class=\"n\"><span "
	    "id=\"sum-distance-km\" data-m=\"%.1f\">%.2f</span> km</td></tr>\n"
	    "<tr><th>Driving time</th><td class=\"n\"><span "
	    "id=\"sum-driving\" data-s=\"%.3f\">%s</span></td></tr>\n"
	    "<tr><th>Idling</th><td class=\"n\"><span id=\"sum-idle\" "
	    "data-s=\"%.3f\">%s</span></td></tr>\n"
	    "<tr><th>Time in trips</th><td class=\"n\"><span "
	    "id=\"sum-duration\" data-s=\"%.3f\">%s</span></td></tr>\n",
	    r->ntrips, open > 0 ? " (one ongoing)" : "", dist, dist / 1000.0,
	    drive, b1, idle, b2, dur, b3);
	if (isfinite(vmax))
		out(r, "<tr><th>Highest speed</th><td class=\"n\"><span "
		    "id=\"sum-max-speed\">%.0f</span> km/h</td></tr>\n", vmax);
	out(r, "<tr><th>Events</th><td class=\"n\"><span id=\"sum-events\">"
	    "%zu</span></td></tr>\n", r->nevs);
	for (s = NSEV - 1; s >= 0; s--)
		out(r, "<tr><th>&#160;&#160;%s</th><td class=\"n\"><span "
		    "id=\"sum-sev-%s\">%zu</span></td></tr>\n",
		    rules_severity_name((enum rules_severity)s),
		    rules_severity_name((enum rules_severity)s), sev[s]);
	out(r, "</table>\n</div>\n");
	type_table(r, "violations", "Violations by type 违规 (violation, "
	    "critical)", RULES_VIOLATION, RULES_CRITICAL);
	type_table(r, "other-events", "Other events by type (warning, info)",
	    RULES_INFO, RULES_WARNING);
	out(r, "</div>\n<p class=\"note\">Trips and events that overlap the "
	    "period are counted whole.  Distances are what the gateway "
	    "measured (filtered GNSS, see fleetgwctl trips).</p>\n"
	    "</section>\n");
}

/* ------------------------------------------------------------- map */

static void
box_add(struct report *r, double x0, double y0, double x1, double y1)
{
	r->boxes = grow(r->boxes, &r->capboxes, r->nboxes,
	    sizeof(*r->boxes));
	r->boxes[r->nboxes].x0 = x0;
	r->boxes[r->nboxes].y0 = y0;
	r->boxes[r->nboxes].x1 = x1;
	r->boxes[r->nboxes].y1 = y1;
	r->nboxes++;
}

static bool
box_free(const struct report *r, double x0, double y0, double x1,
    double y1)
{
	size_t	i;

	if (x0 < 0 || y0 < 0 || x1 > REPORT_MAP_W || y1 > REPORT_MAP_H)
		return false;
	for (i = 0; i < r->nboxes; i++)
		if (x0 < r->boxes[i].x1 && r->boxes[i].x0 < x1 &&
		    y0 < r->boxes[i].y1 && r->boxes[i].y0 < y1)
			return false;
	return true;
}

/* Display width of a label, roughly (CJK counts double). */
static double
label_w(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	double			 w = 0;
	size_t			 k;

	while (*p != '\0') {
		k = utf8_len(p);
		w += k >= 3 ? 2.0 * LABEL_CHAR_W : LABEL_CHAR_W;
		p += k == 0 ? 1 : k;
	}
	return w;
}

/*
 * A label near (x, y), off a marker of radius rad: the first of eight
 * places around it that overlaps no label placed before (else the
 * first), with a white halo so it reads over tracks.
 */
static void
place_label(struct report *r, double x, double y, double rad,
    const char *text, const char *cls)
{
	static const double	dirs[8][2] = {
		{ 1, -1 }, { 1, 1 }, { -1, -1 }, { -1, 1 },
		{ 1, 0 }, { -1, 0 }, { 0, -1 }, { 0, 1 }
	};
	double	w = label_w(text), h = LABEL_FONT + 2, lx = 0, ly = 0;
	double	bx0, by0;
	size_t	i;
	bool	found = false;

	for (i = 0; i < NELEM(dirs) && !found; i++) {
		lx = dirs[i][0] > 0 ? x + rad + 2 : dirs[i][0] < 0 ?
		    x - rad - 2 - w : x - w / 2;
		ly = dirs[i][1] < 0 ? y - rad - 2 - h : dirs[i][1] > 0 ?
		    y + rad + 2 : y - h / 2;
		found = box_free(r, lx, ly, lx + w, ly + h);
	}
	if (!found) {
		lx = x + rad + 2;
		ly = y - rad - 2 - h;
	}
	bx0 = lx;
	by0 = ly;
	box_add(r, bx0, by0, bx0 + w, by0 + h);
	out(r, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" "
	    "fill=\"#222\" stroke=\"#fff\" stroke-width=\"3\" "
	    "paint-order=\"stroke\">", cls, lx, ly + h - 3, LABEL_FONT);
	esc(r, text);
	out(r, "</text>\n");
}

/* Sutherland-Hodgman against one side: edge 0..3 = x>=v, x<=v, y>=v, y<=v. */
static size_t
clip_side(const double *in, size_t n, double *o, int edge, double v)
{
	size_t	i, m = 0;
	double	px, py, qx, qy, t;
	bool	pin, qin;

#define INSIDE(x, y) (edge == 0 ? (x) >= v : edge == 1 ? (x) <= v : \
	edge == 2 ? (y) >= v : (y) <= v)
	if (n == 0)
		return 0;
	px = in[2 * (n - 1)];
	py = in[2 * (n - 1) + 1];
	pin = INSIDE(px, py);
	for (i = 0; i < n; i++) {
		qx = in[2 * i];
		qy = in[2 * i + 1];
		qin = INSIDE(qx, qy);
		if (qin != pin) {
			t = edge < 2 ? (v - px) / (qx - px) : (v - py) /
			    (qy - py);
			o[2 * m] = edge < 2 ? v : px + t * (qx - px);
			o[2 * m + 1] = edge < 2 ? py + t * (qy - py) : v;
			m++;
		}
		if (qin) {
			o[2 * m] = qx;
			o[2 * m + 1] = qy;
			m++;
		}
		px = qx;
		py = qy;
		pin = qin;
	}
#undef INSIDE
	return m;
}

/*
 * A closed ring (px, n points in *xy, which may be reallocated) clipped
 * to the map plus CLIP_MARGIN_PX: a province outline around a city map
 * costs a few points, not its thousands.  Returns the new count.
 */
static size_t
clip_ring(double **xy, size_t n)
{
	const double	lim[4] = { -CLIP_MARGIN_PX,
			    REPORT_MAP_W + CLIP_MARGIN_PX, -CLIP_MARGIN_PX,
			    REPORT_MAP_H + CLIP_MARGIN_PX };
	double		*tmp;
	int		 e;

	for (e = 0; e < 4 && n > 0; e++) {
		tmp = xreallocarray(NULL, 2 * n + 2, 2 * sizeof(double));
		n = clip_side(*xy, n, tmp, e, lim[e]);
		free(*xy);
		*xy = tmp;
	}
	return n;
}

static bool
bbox_visible(const struct report *r, double w, double s, double e,
    double n)
{
	return !(e < r->view_w || w > r->view_e || n < r->view_s ||
	    s > r->view_n);
}

static void
drawn_add(struct report *r, const char *id, const char *name,
    const char *kind, const char *shape, bool bbox_only, const double bb[4])
{
	struct drawn	*d;

	r->drawn = grow(r->drawn, &r->capdrawn, r->ndrawn, sizeof(*r->drawn));
	d = &r->drawn[r->ndrawn++];
	d->id = id;
	d->name = name;
	d->kind = kind;
	d->shape = shape;
	d->bbox_only = bbox_only;
	d->west = bb[0];
	d->south = bb[1];
	d->east = bb[2];
	d->north = bb[3];
	r->counts.fences_drawn++;
}

/* Label a fence: in a corner if it covers most of the map, else inside. */
static void
fence_label(struct report *r, const char *id, const char *kind, double w,
    double s, double e, double n)
{
	double	x0, y0, x1, y1, cw, ch;
	char	*text;

	report_proj_xy(&r->proj, fmax(w, r->view_w), fmin(n, r->view_n),
	    &x0, &y0);
	report_proj_xy(&r->proj, fmin(e, r->view_e), fmax(s, r->view_s),
	    &x1, &y1);
	text = xasprintf("%s (%s)", id, kind);
	cw = x1 - x0;
	ch = y1 - y0;
	if (cw > 0.6 * REPORT_MAP_W && ch > 0.6 * REPORT_MAP_H) {
		if (r->corner < CORNER_LABELS) {
			out(r, "<text x=\"10\" y=\"%.0f\" font-size=\"%.0f\" "
			    "fill=\"#455a64\" stroke=\"#fff\" "
			    "stroke-width=\"3\" paint-order=\"stroke\">",
			    20.0 + r->corner * (LABEL_FONT + 4), LABEL_FONT);
			esc(r, text);
			out(r, "</text>\n");
			box_add(r, 10, 8.0 + r->corner * (LABEL_FONT + 4),
			    10 + label_w(text), 22.0 + r->corner *
			    (LABEL_FONT + 4));
		}
		r->corner++;
	} else
		place_label(r, (x0 + x1) / 2, (y0 + y1) / 2, 0, text,
		    "fence-label");
	free(text);
}

static void
fence_style(struct report *r, const char *kind, bool bbox_only)
{
	size_t	k = kind_style(kind);

	out(r, " stroke=\"%s\" stroke-width=\"1.5\" fill=\"%s\" "
	    "fill-opacity=\"%.2f\"%s", fence_styles[k].colour,
	    fence_styles[k].fill_opacity > 0 ? fence_styles[k].colour :
	    "none", fence_styles[k].fill_opacity,
	    fence_styles[k].dashed || bbox_only ?
	    " stroke-dasharray=\"6 4\"" : "");
}

static void
fence_title(struct report *r, const char *id, const char *name,
    const char *kind)
{
	out(r, "<title>");
	esc(r, id);
	if (name != NULL && *name != '\0') {
		out(r, " ");
		esc(r, name);
	}
	out(r, " (");
	esc(r, kind);
	out(r, ")</title>");
}

/* The rings of a polygon fence of the set as one even-odd path. */
static void
draw_set_polygon(struct report *r, size_t idx, const struct fence_info *fi)
{
	const int32_t	*lat7;
	size_t		 ring, np, i, m;
	double		*xy;
	bool		 hole, any = false;

	for (ring = 0; fence_set_ring(r->set, idx, ring, &lat7, &np, &hole)
	    == 0; ring++) {
		xy = xreallocarray(NULL, np + 1, 2 * sizeof(double));
		for (i = 0; i < np; i++)
			report_proj_xy(&r->proj, lat7[2 * i] *
			    FENCE_LATTICE_DEG, lat7[2 * i + 1] *
			    FENCE_LATTICE_DEG, &xy[2 * i], &xy[2 * i + 1]);
		m = clip_ring(&xy, np);
		m = report_decimate(xy, m, REPORT_DECIMATE_PX);
		if (m >= 3) {
			if (!any) {
				out(r, "<path fill-rule=\"evenodd\"");
				fence_style(r, fence_kind_name(fi->kind),
				    false);
				out(r, " d=\"");
				any = true;
			}
			for (i = 0; i < m; i++)
				out(r, "%s%.1f %.1f", i == 0 ? "M" : "L",
				    xy[2 * i], xy[2 * i + 1]);
			out(r, "Z");
		}
		free(xy);
	}
	if (any) {
		out(r, "\">");
		fence_title(r, fi->id, fi->name, fence_kind_name(fi->kind));
		out(r, "</path>\n");
	}
}

static void
draw_set_corridor(struct report *r, size_t idx, const struct fence_info *fi)
{
	const int32_t	*lat7;
	size_t		 np, i, m;
	double		*xy, wpx;
	bool		 hole;

	if (fence_set_ring(r->set, idx, 0, &lat7, &np, &hole) == -1)
		return;
	xy = xreallocarray(NULL, np + 1, 2 * sizeof(double));
	for (i = 0; i < np; i++)
		report_proj_xy(&r->proj, lat7[2 * i] * FENCE_LATTICE_DEG,
		    lat7[2 * i + 1] * FENCE_LATTICE_DEG, &xy[2 * i],
		    &xy[2 * i + 1]);
	m = report_decimate(xy, np, REPORT_DECIMATE_PX);
	wpx = fmax(2.0 * fi->radius_m * r->proj.px_per_m, 2.0);
	out(r, "<polyline fill=\"none\" stroke=\"%s\" stroke-opacity=\"0.25\" "
	    "stroke-width=\"%.1f\" stroke-linejoin=\"round\" "
	    "stroke-linecap=\"round\" points=\"",
	    fence_styles[kind_style(fence_kind_name(fi->kind))].colour, wpx);
	for (i = 0; i < m; i++)
		out(r, "%s%.1f,%.1f", i == 0 ? "" : " ", xy[2 * i],
		    xy[2 * i + 1]);
	out(r, "\">");
	fence_title(r, fi->id, fi->name, fence_kind_name(fi->kind));
	out(r, "</polyline>\n");
	free(xy);
}

static void
draw_circle(struct report *r, const char *id, const char *name,
    const char *kind, double lon, double lat, double radius_m)
{
	double	x, y;

	report_proj_xy(&r->proj, lon, lat, &x, &y);
	out(r, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", x, y,
	    fmax(radius_m * r->proj.px_per_m, 1.0));
	fence_style(r, kind, false);
	out(r, ">");
	fence_title(r, id, name, kind);
	out(r, "</circle>\n");
}

static void
draw_fences(struct report *r)
{
	const struct fence_info	*fi;
	const struct rfence	*f;
	size_t			 i, first_label;
	double			 x0, y0, x1, y1, bb[4];

	out(r, "<g id=\"fences\">\n");
	first_label = r->ndrawn;
	if (r->set != NULL) {
		for (i = 0; i < fence_set_count(r->set); i++) {
			fi = fence_set_info(r->set, i);
			if (!bbox_visible(r, fi->min_lon, fi->min_lat,
			    fi->max_lon, fi->max_lat))
				continue;
			if (fi->shape == FENCE_SHAPE_CIRCLE)
				draw_circle(r, fi->id, fi->name,
				    fence_kind_name(fi->kind), fi->center_lon,
				    fi->center_lat, fi->radius_m);
			else if (fi->shape == FENCE_SHAPE_CORRIDOR)
				draw_set_corridor(r, i, fi);
			else
				draw_set_polygon(r, i, fi);
			bb[0] = fi->min_lon;
			bb[1] = fi->min_lat;
			bb[2] = fi->max_lon;
			bb[3] = fi->max_lat;
			drawn_add(r, fi->id, fi->name,
			    fence_kind_name(fi->kind),
			    fence_shape_name(fi->shape), false, bb);
		}
	}
	for (i = 0; i < r->nfi; i++) {
		f = &r->fi[i];
		if (!bbox_visible(r, f->west, f->south, f->east, f->north))
			continue;
		if (f->circle)
			draw_circle(r, f->id, f->name, f->kind, f->clon,
			    f->clat, f->radius_m);
		else {
			report_proj_xy(&r->proj, f->west, f->north, &x0, &y0);
			report_proj_xy(&r->proj, f->east, f->south, &x1, &y1);
			/* Clamp: a province's box around a city map. */
			x0 = fmax(x0, -CLIP_MARGIN_PX);
			y0 = fmax(y0, -CLIP_MARGIN_PX);
			x1 = fmin(x1, REPORT_MAP_W + CLIP_MARGIN_PX);
			y1 = fmin(y1, REPORT_MAP_H + CLIP_MARGIN_PX);
			out(r, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\"", x0, y0, fmax(x1 - x0, 1.0),
			    fmax(y1 - y0, 1.0));
			fence_style(r, f->kind, true);
			out(r, ">");
			fence_title(r, f->id, f->name, f->kind);
			out(r, "</rect>\n");
			r->bbox_only = true;
		}
		bb[0] = f->west;
		bb[1] = f->south;
		bb[2] = f->east;
		bb[3] = f->north;
		drawn_add(r, f->id, f->name, f->kind, f->shape, !f->circle,
		    bb);
	}
	/* Labels after all shapes, so that no fill covers one. */
	for (i = first_label; i < r->ndrawn; i++)
		fence_label(r, r->drawn[i].id, r->drawn[i].kind,
		    r->drawn[i].west, r->drawn[i].south, r->drawn[i].east,
		    r->drawn[i].north);
	if (r->corner > CORNER_LABELS)
		out(r, "<text x=\"10\" y=\"%.0f\" font-size=\"%.0f\" "
		    "fill=\"#455a64\">+%d more</text>\n",
		    20.0 + CORNER_LABELS * (LABEL_FONT + 4), LABEL_FONT,
		    r->corner - CORNER_LABELS);
	out(r, "</g>\n");
}

/* The track of trip i: its positions, projected and thinned. */
static void
draw_track(struct report *r, size_t ti, double *xy)
{
	const struct trip_summary	*t = &r->trips[ti].trip;
	size_t				 a, b, i, n, m;
	char				 day[12], s0[16], s1[16];
	int				 d;

	a = pos_lower(r, t->start_utc_ms);
	b = pos_lower(r, t->end_utc_ms + 1);
	loc_date(r, t->start_utc_ms, day);
	d = day_index(r, day);
	n = 0;
	for (i = a; i < b; i++, n++)
		report_proj_xy(&r->proj, r->pos[i].lon, r->pos[i].lat,
		    &xy[2 * n], &xy[2 * n + 1]);
	m = report_decimate(xy, n, REPORT_DECIMATE_PX);
	r->counts.points_drawn += m;
	if (m < 2)
		return;
	loc_time(r, t->start_utc_ms, NULL, true, s0, sizeof(s0));
	loc_time(r, t->end_utc_ms, day, true, s1, sizeof(s1));
	out(r, "<polyline class=\"track\" data-trip=\"%" PRIu64 "\" "
	    "fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" "
	    "stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"",
	    t->id, day_colour(d), TRACK_WIDTH);
	for (i = 0; i < m; i++)
		out(r, "%s%.1f,%.1f", i == 0 ? "" : " ", xy[2 * i],
		    xy[2 * i + 1]);
	out(r, "\"><title>trip %" PRIu64 " %s %s-%s, %.2f km</title>"
	    "</polyline>\n", t->id, day, s0, s1, isfinite(t->distance_m) ?
	    t->distance_m / 1000.0 : 0.0);
}

/* Where a trip starts and ends: its summary, else its first/last fix. */
static bool
trip_end_point(const struct report *r, size_t ti, bool end, double *lat,
    double *lon)
{
	const struct trip_summary	*t = &r->trips[ti].trip;
	size_t				 a, b;

	*lat = end ? t->end_lat_deg : t->start_lat_deg;
	*lon = end ? t->end_lon_deg : t->start_lon_deg;
	if (isfinite(*lat) && isfinite(*lon))
		return true;
	a = pos_lower(r, t->start_utc_ms);
	b = pos_lower(r, t->end_utc_ms + 1);
	if (a >= b)
		return false;
	*lat = r->pos[end ? b - 1 : a].lat;
	*lon = r->pos[end ? b - 1 : a].lon;
	return true;
}

static void
draw_markers(struct report *r)
{
	const struct store_event	*ev;
	size_t				 i;
	double				 lat, lon, x, y;
	char				 tm[16], text[48];
	int				 pass;

	out(r, "<g id=\"trip-ends\">\n");
	for (i = 0; i < r->ntrips; i++) {
		if (trip_end_point(r, i, false, &lat, &lon)) {
			report_proj_xy(&r->proj, lon, lat, &x, &y);
			out(r, "<circle class=\"start\" cx=\"%.1f\" "
			    "cy=\"%.1f\" r=\"5.5\" fill=\"%s\" stroke=\"#fff\" "
			    "stroke-width=\"1.5\"><title>trip %" PRIu64
			    " start</title></circle>\n", x, y, START_COLOUR,
			    r->trips[i].trip.id);
		}
		if (!r->trips[i].open && trip_end_point(r, i, true, &lat,
		    &lon)) {
			report_proj_xy(&r->proj, lon, lat, &x, &y);
			out(r, "<rect class=\"end\" x=\"%.1f\" y=\"%.1f\" "
			    "width=\"9\" height=\"9\" fill=\"%s\" "
			    "stroke=\"#fff\" stroke-width=\"1.5\"><title>trip %"
			    PRIu64 " end</title></rect>\n", x - 4.5, y - 4.5,
			    END_COLOUR, r->trips[i].trip.id);
		}
	}
	out(r, "</g>\n<g id=\"event-markers\">\n");
	/* Warnings first, so that violations are drawn on top. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < r->nevs; i++) {
			ev = &r->evs[i].ev;
			if (r->evs[i].marker == 0 ||
			    (pass == 0) != (ev->severity == RULES_WARNING))
				continue;
			report_proj_xy(&r->proj, ev->lon_deg, ev->lat_deg, &x,
			    &y);
			if (ev->severity == RULES_WARNING)
				out(r, "<path class=\"warning\" d=\"M%.1f "
				    "%.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\" "
				    "stroke=\"#5d4037\" stroke-width=\"1.2\">",
				    x, y - MARKER_R, x + MARKER_R, y +
				    MARKER_R * 0.75, x - MARKER_R, y +
				    MARKER_R * 0.75, REPORT_WARNING_COLOUR);
			else
				out(r, "<circle class=\"violation\" "
				    "cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" "
				    "fill=\"%s\" stroke=\"#fff\" "
				    "stroke-width=\"2\">", x, y, MARKER_R,
				    REPORT_VIOLATION_COLOUR);
			out(r, "<title>#%d %s</title>%s\n", r->evs[i].marker,
			    rules_type_name(ev->type), ev->severity ==
			    RULES_WARNING ? "</path>" : "</circle>");
		}
	/* Labels: "#n HH:MM", placed around the markers. */
	for (i = 0; i < r->nevs; i++) {
		ev = &r->evs[i].ev;
		if (r->evs[i].marker == 0)
			continue;
		report_proj_xy(&r->proj, ev->lon_deg, ev->lat_deg, &x, &y);
		loc_time(r, ev->start_utc_ms, NULL, true, tm, sizeof(tm));
		snprintf(text, sizeof(text), "#%d %s", r->evs[i].marker, tm);
		place_label(r, x, y, MARKER_R, text, "event-label");
	}
	out(r, "</g>\n");
}

/* Scale bar (bottom left), north arrow (top right), corner coordinates. */
static void
draw_furniture(struct report *r)
{
	double	len_px, x = 16, y = REPORT_MAP_H - 22, lon, lat;
	char	label[32];

	report_scale_bar(1.0 / r->proj.px_per_m, SCALE_MAX_PX, &len_px, label,
	    sizeof(label));
	out(r, "<g id=\"scale-bar\">\n<rect x=\"%.1f\" y=\"%.1f\" "
	    "width=\"%.1f\" height=\"30\" fill=\"#fff\" fill-opacity=\"0.85\"/>"
	    "\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"5\" "
	    "fill=\"#fff\" stroke=\"#263238\" stroke-width=\"1\"/>\n"
	    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"5\" "
	    "fill=\"#263238\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
	    "font-size=\"12\" fill=\"#263238\">0</text>\n"
	    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#263238\" "
	    "text-anchor=\"end\">%s</text>\n</g>\n",
	    x - 8, y - 18, len_px + 16 + 40, x, y, len_px, x, y, len_px / 2,
	    x, y - 4, x + len_px + 36, y - 4, label);
	out(r, "<g id=\"north-arrow\" transform=\"translate(%.0f 46)\">\n"
	    "<circle r=\"22\" fill=\"#fff\" fill-opacity=\"0.85\"/>\n"
	    "<path d=\"M0 -17L8 8L0 3L-8 8Z\" fill=\"#263238\"/>\n"
	    "<text y=\"20\" font-size=\"12\" text-anchor=\"middle\" "
	    "fill=\"#263238\" font-weight=\"bold\">N</text>\n</g>\n",
	    REPORT_MAP_W - 34);
	report_proj_lonlat(&r->proj, REPORT_MAP_W, 0, &lon, &lat);
	out(r, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" fill=\"#546e7a\" "
	    "text-anchor=\"end\">NE corner %.5f&#176;N %.5f&#176;E</text>\n",
	    REPORT_MAP_W - 6, 88.0, lat, lon);
	report_proj_lonlat(&r->proj, 0, REPORT_MAP_H, &lon, &lat);
	out(r, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" fill=\"#546e7a\" "
	    "text-anchor=\"end\">SW corner %.5f&#176;N %.5f&#176;E (WGS-84)"
	    "</text>\n", REPORT_MAP_W - 6, REPORT_MAP_H - 6, lat, lon);
}

/* Legend below the map (days, markers, fence kinds drawn); its height. */
static double
write_legend(struct report *r, double top)
{
	const double	row = LEGEND_ROW_H;
	double		x = LEGEND_PAD, y = top + LEGEND_PAD;
	bool		kinds[NELEM(fence_styles)] = { false };
	size_t		i, k;
	char		text[64];

#define NEXT() do {							\
	x += LEGEND_ITEM_W;						\
	if (x + LEGEND_ITEM_W > REPORT_MAP_W) {				\
		x = LEGEND_PAD;						\
		y += row;						\
	}								\
} while (0)
	for (i = 0; i < r->ndays && i < LEGEND_MAX_DAYS; i++) {
		out(r, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
		    "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"%.1f\"/>"
		    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">"
		    "%s</text>\n", x, y + 8, x + 26, y + 8,
		    day_colour((int)i), TRACK_WIDTH, x + 32, y + 12,
		    r->days[i]);
		NEXT();
	}
	if (r->ndays > LEGEND_MAX_DAYS) {
		out(r, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">"
		    "+%zu more days (colours repeat)</text>\n", x,
		    y + 12, r->ndays - LEGEND_MAX_DAYS);
		NEXT();
	}
	out(r, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"%s\"/>"
	    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">trip start"
	    "</text>\n", x + 8, y + 8, START_COLOUR, x + 20, y + 12);
	NEXT();
	out(r, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" "
	    "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" "
	    "font-size=\"12\">trip end</text>\n", x + 3.5, y + 3.5,
	    END_COLOUR, x + 20, y + 12);
	NEXT();
	out(r, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"%s\"/>"
	    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">violation "
	    "#n start</text>\n", x + 8, y + 8, REPORT_VIOLATION_COLOUR,
	    x + 20, y + 12);
	NEXT();
	out(r, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" "
	    "fill=\"%s\" stroke=\"#5d4037\"/><text x=\"%.1f\" "
	    "y=\"%.1f\" font-size=\"12\">warning #n start</text>\n",
	    x + 8, y + 1, x + 15, y + 14, x + 1, y + 14,
	    REPORT_WARNING_COLOUR, x + 20, y + 12);
	NEXT();
	for (i = 0; i < r->ndrawn; i++)
		kinds[kind_style(r->drawn[i].kind)] = true;
	for (k = 0; k < NELEM(fence_styles); k++) {
		if (!kinds[k])
			continue;
		snprintf(text, sizeof(text), "%s fence", fence_styles[k].kind);
		out(r, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" "
		    "height=\"12\" fill=\"%s\" fill-opacity=\"%.2f\" "
		    "stroke=\"%s\"%s/><text x=\"%.1f\" y=\"%.1f\" "
		    "font-size=\"12\">%s</text>\n", x, y + 2,
		    fence_styles[k].colour,
		    fence_styles[k].fill_opacity,
		    fence_styles[k].colour, fence_styles[k].dashed ?
		    " stroke-dasharray=\"4 3\"" : "", x + 20, y + 12,
		    text);
		NEXT();
	}
#undef NEXT
	if (x > LEGEND_PAD)
		y += row;
	return y + LEGEND_PAD - top;
}

/* The extent of what is drawn: positions, trip ends, marked events. */
static bool
map_extent(struct report *r, double *w, double *s, double *e, double *n)
{
	size_t	i;
	double	lat, lon;
	bool	any = false;

#define TAKE(la, lo) do {						\
	if (!any) {							\
		*w = *e = (lo);						\
		*s = *n = (la);						\
		any = true;						\
	} else {							\
		*w = fmin(*w, (lo));					\
		*e = fmax(*e, (lo));					\
		*s = fmin(*s, (la));					\
		*n = fmax(*n, (la));					\
	}								\
} while (0)
	for (i = 0; i < r->npos; i++)
		TAKE(r->pos[i].lat, r->pos[i].lon);
	for (i = 0; i < r->ntrips; i++) {
		if (trip_end_point(r, i, false, &lat, &lon))
			TAKE(lat, lon);
		if (trip_end_point(r, i, true, &lat, &lon))
			TAKE(lat, lon);
	}
	for (i = 0; i < r->nevs; i++)
		if (r->evs[i].marker != 0)
			TAKE(r->evs[i].ev.lat_deg, r->evs[i].ev.lon_deg);
#undef TAKE
	return any;
}

static void
write_map(struct report *r)
{
	FILE	*doc = r->fp;
	double	 w = 0, s = 0, e = 0, n = 0, legend_h, *xy;
	size_t	 i, maxn = 0, a, b, bodylen = 0;
	char	*body = NULL;

	/*
	 * The inside first, into memory: the legend's height (so the
	 * viewBox) is known once the fences on the map are.
	 */
	if ((r->fp = open_memstream(&body, &bodylen)) == NULL)
		fatal("report: open_memstream");
	out(r, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
	    "fill=\"#fbfcfc\"/>\n", REPORT_MAP_W, REPORT_MAP_H);
	r->have_map = map_extent(r, &w, &s, &e, &n);
	if (r->have_map) {
		report_proj_fit(&r->proj, w, s, e, n, REPORT_MAP_W,
		    REPORT_MAP_H);
		report_proj_lonlat(&r->proj, 0, REPORT_MAP_H, &r->view_w,
		    &r->view_s);
		report_proj_lonlat(&r->proj, REPORT_MAP_W, 0, &r->view_e,
		    &r->view_n);
		/* A nested svg clips everything to the map area. */
		out(r, "<svg x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
		    "viewBox=\"0 0 %.0f %.0f\" overflow=\"hidden\">\n",
		    REPORT_MAP_W, REPORT_MAP_H, REPORT_MAP_W, REPORT_MAP_H);
		draw_fences(r);
		out(r, "<g id=\"tracks\">\n");
		for (i = 0; i < r->ntrips; i++) {
			a = pos_lower(r, r->trips[i].trip.start_utc_ms);
			b = pos_lower(r, r->trips[i].trip.end_utc_ms + 1);
			if (b > a && b - a > maxn)
				maxn = b - a;
		}
		xy = xreallocarray(NULL, maxn + 1, 2 * sizeof(double));
		for (i = 0; i < r->ntrips; i++)
			draw_track(r, i, xy);
		free(xy);
		out(r, "</g>\n");
		draw_markers(r);
		draw_furniture(r);
		out(r, "</svg>\n");
	} else
		out(r, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"18\" "
		    "text-anchor=\"middle\" fill=\"#546e7a\">no positions in "
		    "this period</text>\n", REPORT_MAP_W / 2, REPORT_MAP_H / 2);
	out(r, "<rect id=\"map-frame\" x=\"1.5\" y=\"1.5\" width=\"%.0f\" "
	    "height=\"%.0f\" fill=\"none\" stroke=\"%s\" stroke-width=\"3\"/>"
	    "\n", REPORT_MAP_W - 3, REPORT_MAP_H - 3, REPORT_FRAME_COLOUR);
	out(r, "<g id=\"legend\">\n");
	legend_h = write_legend(r, REPORT_MAP_H);
	out(r, "</g>\n");
	if (fclose(r->fp) == EOF)
		fatal("report: memory stream");
	r->fp = doc;

	out(r, "<section id=\"map-section\">\n<h2>Map 轨迹图</h2>\n"
	    "<div class=\"mapbox\">\n<svg id=\"map\" viewBox=\"0 0 %.0f %.0f\" "
	    "role=\"img\" aria-label=\"map of the tracks, fences and events\" "
	    "font-size=\"12\" fill=\"#222\">\n", REPORT_MAP_W,
	    REPORT_MAP_H + legend_h);
	fwrite(body, 1, bodylen, r->fp);
	free(body);
	out(r, "</svg>\n</div>\n");
}

/*
 * Under the map: the scale, how the track was thinned, where the fences
 * came from and the table of the fences drawn.
 */
static void
write_map_notes(struct report *r)
{
	size_t	i;

	out(r, "<p class=\"note\" id=\"map-note\">");
	if (r->have_map)
		out(r, "WGS-84, local equirectangular projection, %.1f m per "
		    "map unit.  %zu positions, %zu track points drawn (points "
		    "closer than %.0f unit to the previous one left out).  ",
		    1.0 / r->proj.px_per_m, r->npos, r->counts.points_drawn,
		    REPORT_DECIMATE_PX);
	if (r->o.fences_from != NULL) {
		out(r, "Fences from ");
		esc(r, r->o.fences_from);
		out(r, ": %zu on the map.", r->ndrawn);
		if (r->bbox_only)
			out(r, "  Polygons and corridors are shown as their "
			    "bounding box (dashed): the daemon's fence list "
			    "carries no outlines; use -c FILE for the exact "
			    "shapes.");
	} else {
		out(r, "<span id=\"no-fences\">No fences drawn");
		if (r->o.fences_note != NULL) {
			out(r, ": ");
			esc(r, r->o.fences_note);
		}
		out(r, ".</span>");
	}
	out(r, "</p>\n");
	if (r->ndrawn == 0) {
		out(r, "</section>\n");
		return;
	}
	out(r, "<table id=\"fence-list\"><thead><tr><th>fence</th>"
	    "<th>name</th><th>kind</th><th>shape</th></tr></thead><tbody>\n");
	for (i = 0; i < r->ndrawn && i < FENCE_LIST_MAX; i++) {
		out(r, "<tr><td>");
		esc(r, r->drawn[i].id);
		out(r, "</td><td>");
		esc_or_dash(r, r->drawn[i].name);
		out(r, "</td><td>");
		esc(r, r->drawn[i].kind);
		out(r, "</td><td>");
		esc(r, r->drawn[i].shape);
		out(r, "%s</td></tr>\n", r->drawn[i].bbox_only ?
		    " (bounding box)" : "");
	}
	if (r->ndrawn > FENCE_LIST_MAX)
		out(r, "<tr><td colspan=\"4\">%zu more</td></tr>\n",
		    r->ndrawn - FENCE_LIST_MAX);
	out(r, "</tbody></table>\n</section>\n");
}

/* ----------------------------------------------------------- tables */

static void
place_cell(struct report *r, double lat, double lon)
{
	const char	*id, *name;

	out(r, "<td>");
	if (place_of(r, lat, lon, &id, &name)) {
		esc(r, id);
		if (name != NULL && *name != '\0') {
			out(r, " (");
			esc(r, name);
			out(r, ")");
		}
		out(r, "<br>");
	}
	if (isfinite(lat) && isfinite(lon))
		out(r, "<span class=\"note\">%.5f, %.5f</span>", lat, lon);
	else
		out(r, "&#8211;");
	out(r, "</td>");
}

static void
write_day_trips(struct report *r, const char *day)
{
	const struct trip_summary	*t;
	char				 s0[16], s1[16], b1[32], b2[32], d[12];
	size_t				 i, n = 0;

	for (i = 0; i < r->ntrips; i++) {
		t = &r->trips[i].trip;
		loc_date(r, t->start_utc_ms, d);
		if (strcmp(d, day) != 0)
			continue;
		if (n++ == 0)
			out(r, "<h3>Trips 行程</h3>\n<table class=\"trips\">"
			    "<thead><tr><th class=\"n\">trip</th>"
			    "<th>start</th><th>end</th><th>from</th>"
			    "<th>to</th><th class=\"n\">km</th>"
			    "<th class=\"n\">duration</th>"
			    "<th class=\"n\">driving</th>"
			    "<th class=\"n\">max km/h</th></tr></thead>"
			    "<tbody>\n");
		loc_time(r, t->start_utc_ms, NULL, false, s0, sizeof(s0));
		if (r->trips[i].open)
			util_strlcpy(s1, "ongoing", sizeof(s1));
		else
			loc_time(r, t->end_utc_ms, day, false, s1,
			    sizeof(s1));
		hms(t->duration_s, b1, sizeof(b1));
		hms(t->driving_s, b2, sizeof(b2));
		out(r, "<tr data-trip=\"%" PRIu64 "\"><td class=\"n\">%"
		    PRIu64 "</td><td class=\"t\">%s</td><td class=\"t\">%s"
		    "</td>", t->id, t->id, s0, s1);
		place_cell(r, t->start_lat_deg, t->start_lon_deg);
		place_cell(r, t->end_lat_deg, t->end_lon_deg);
		out(r, "<td class=\"n\">%.2f</td><td class=\"n\">%s</td>"
		    "<td class=\"n\">%s</td><td class=\"n\">",
		    isfinite(t->distance_m) ? t->distance_m / 1000.0 : 0.0,
		    b1, b2);
		if (isfinite(t->max_speed_kmh))
			out(r, "%.0f", t->max_speed_kmh);
		else
			out(r, "&#8211;");
		out(r, "</td></tr>\n");
	}
	if (n == 0)
		out(r, "<p class=\"note\">No trips.</p>\n");
	else
		out(r, "</tbody></table>\n");
}

static void
write_day_events(struct report *r, const char *day)
{
	const struct store_event	*ev;
	json_t				*det;
	const char			*fname;
	char				 s0[16], s1[16], d[12], *sum;
	size_t				 i, n = 0;

	for (i = 0; i < r->nevs; i++) {
		ev = &r->evs[i].ev;
		loc_date(r, ev->start_utc_ms, d);
		if (strcmp(d, day) != 0)
			continue;
		if (n++ == 0)
			out(r, "<h3>Events 事件</h3>\n<table class=\"events\">"
			    "<thead><tr><th class=\"n\">map</th>"
			    "<th>start</th><th>end</th><th>type</th>"
			    "<th>severity</th><th>fence</th><th>details</th>"
			    "</tr></thead><tbody>\n");
		loc_time(r, ev->start_utc_ms, NULL, false, s0, sizeof(s0));
		if (ev->end_utc_ms == 0)
			util_strlcpy(s1, "ongoing", sizeof(s1));
		else
			loc_time(r, ev->end_utc_ms, day, false, s1,
			    sizeof(s1));
		out(r, "<tr data-type=\"%s\" data-severity=\"%s\">"
		    "<td class=\"n\">", rules_type_name(ev->type),
		    rules_severity_name(ev->severity));
		if (r->evs[i].marker > 0)
			out(r, "#%d", r->evs[i].marker);
		out(r, "</td><td class=\"t\">%s</td><td class=\"t\">%s</td>"
		    "<td>%s</td><td class=\"sev-%s\">%s</td><td>", s0, s1,
		    rules_type_name(ev->type),
		    rules_severity_name(ev->severity),
		    rules_severity_name(ev->severity));
		if (ev->fence_id[0] != '\0') {
			esc(r, ev->fence_id);
			det = json_loads(ev->details, 0, NULL);
			fname = json_string_value(json_object_get(det,
			    "fence_name"));
			if (fname != NULL && *fname != '\0') {
				out(r, " (");
				esc(r, fname);
				out(r, ")");
			}
			json_decref(det);
		} else
			out(r, "&#8211;");
		out(r, "</td><td class=\"details\">");
		sum = report_details_summary(ev->details, REPORT_DETAILS_MAX);
		esc_or_dash(r, sum);
		free(sum);
		out(r, "</td></tr>\n");
	}
	if (n == 0)
		out(r, "<p class=\"note\">No events.</p>\n");
	else
		out(r, "</tbody></table>\n");
}

static void
write_days(struct report *r)
{
	const struct trip_summary	*t;
	size_t				 i, j, ntr, nev;
	double				 km, drive;
	char				 d[12], b[32];

	out(r, "<section id=\"days\">\n");
	for (i = 0; i < r->ndays; i++) {
		ntr = nev = 0;
		km = drive = 0;
		for (j = 0; j < r->ntrips; j++) {
			t = &r->trips[j].trip;
			loc_date(r, t->start_utc_ms, d);
			if (strcmp(d, r->days[i]) != 0)
				continue;
			ntr++;
			km += isfinite(t->distance_m) ? t->distance_m / 1e3 : 0;
			drive += isfinite(t->driving_s) ? t->driving_s : 0;
		}
		for (j = 0; j < r->nevs; j++) {
			loc_date(r, r->evs[j].ev.start_utc_ms, d);
			nev += strcmp(d, r->days[i]) == 0;
		}
		hms(drive, b, sizeof(b));
		out(r, "<div class=\"day\" id=\"day-%s\">\n<h2><span "
		    "style=\"color:%s\">&#9632;</span> %s (%s)</h2>\n"
		    "<p class=\"note\">%zu trip%s, %.2f km, driving %s; %zu "
		    "event%s</p>\n", r->days[i], day_colour((int)i),
		    r->days[i], weekday(r->days[i]), ntr, ntr == 1 ? "" : "s",
		    km, b, nev, nev == 1 ? "" : "s");
		write_day_trips(r, r->days[i]);
		write_day_events(r, r->days[i]);
		out(r, "</div>\n");
	}
	if (r->ndays == 0)
		out(r, "<h2>Days</h2>\n<p class=\"note\">No trips and no "
		    "events in this period.</p>\n");
	out(r, "</section>\n");
}

int
report_write(struct report *r, FILE *fp)
{
	size_t	i;
	char	d[12];
	int	marker = 0;

	r->fp = fp;
	r->bad_time = 0;
	r->ndays = 0;
	r->ndrawn = 0;
	r->nboxes = 0;
	r->corner = 0;
	r->bbox_only = false;
	memset(&r->counts, 0, sizeof(r->counts));
	r->counts.trips = r->ntrips;
	r->counts.events = r->nevs;
	r->counts.positions = r->npos;

	if (r->npos > 1)
		qsort(r->pos, r->npos, sizeof(*r->pos), pos_cmp);
	for (i = 0; i < r->ntrips; i++) {
		loc_date(r, r->trips[i].trip.start_utc_ms, d);
		add_day(r, d);
	}
	for (i = 0; i < r->nevs; i++) {
		loc_date(r, r->evs[i].ev.start_utc_ms, d);
		add_day(r, d);
		r->evs[i].marker = is_marked(&r->evs[i].ev) ? ++marker : 0;
	}

	write_head(r);
	write_header(r);
	write_summary(r);
	write_map(r);
	write_map_notes(r);
	write_days(r);
	out(r, "<footer class=\"note\">fleetgwctl report: every record "
	    "shown is as the gateway stored it.</footer>\n</body>\n</html>\n");
	if (ferror(fp)) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	if (r->bad_time) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}
