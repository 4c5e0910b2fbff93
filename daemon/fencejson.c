/* SPDX-License-Identifier: MIT */
/*
 * fencejson.c - fences as JSON and text; see fencejson.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fencejson.h"
#include "util.h"

#define COORD_SCALE	1e7	/* 7 decimals, 1 cm */
#define DIST_SCALE	10.0	/* 0.1 m */

static double
round_to(double v, double scale)
{
	return round(v * scale) / scale;
}

static json_t *
lonlat(double lon, double lat)
{
	return json_pack("[f, f]", round_to(lon, COORD_SCALE),
	    round_to(lat, COORD_SCALE));
}

json_t *
fencejson_info(const struct fence_set *set, size_t idx)
{
	const struct fence_info	*fi = fence_set_info(set, idx);
	json_t			*o;

	if (fi == NULL)
		return json_null();
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
	    "s:[f, f, f, f]}",
	    "id", fi->id, "name", fi->name, "kind", fence_kind_name(fi->kind),
	    "category", fi->category, "crs", geo_crs_name(fi->crs),
	    "shape", fence_shape_name(fi->shape),
	    "parts", (json_int_t)fi->parts, "rings", (json_int_t)fi->rings,
	    "vertices", (json_int_t)fi->vertices,
	    "bbox", round_to(fi->min_lon, COORD_SCALE),
	    round_to(fi->min_lat, COORD_SCALE),
	    round_to(fi->max_lon, COORD_SCALE),
	    round_to(fi->max_lat, COORD_SCALE));
	if (fi->shape == FENCE_SHAPE_CIRCLE) {
		json_object_set_new(o, "center", lonlat(fi->center_lon,
		    fi->center_lat));
		json_object_set_new(o, "radius_m",
		    json_real(round_to(fi->radius_m, DIST_SCALE)));
	} else if (fi->shape == FENCE_SHAPE_CORRIDOR)
		json_object_set_new(o, "width_m",
		    json_real(round_to(2 * fi->radius_m, DIST_SCALE)));
	json_object_set_new(o, "speed_limit_kmh", fi->speed_limit_kmh > 0 ?
	    json_real(fi->speed_limit_kmh) : json_null());
	json_object_set_new(o, "dwell_s", fi->dwell_s >= 0 ?
	    json_integer(fi->dwell_s) : json_null());
	return o;
}

struct near {
	size_t	idx;
	double	dist_m;
};

static int
near_cmp(const void *a, const void *b)
{
	const struct near	*x = a, *y = b;

	if (x->dist_m != y->dist_m)
		return x->dist_m < y->dist_m ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

json_t *
fencejson_at(const struct fence_set *set, double lon, double lat,
    enum geo_crs crs)
{
	const struct fence_info	*fi;
	struct near		 near[FENCEJSON_NEARBY + 1];
	json_t			*o, *inside, *nearby, *f;
	uint32_t		*hits;
	enum fence_loc		 loc;
	double			 wlon, wlat, glon, glat, blon, blat, d, dlat,
				 dlon;
	size_t			 n, i, j, nn = 0, cap;

	geo_to_wgs84(crs, lon, lat, &wlon, &wlat);
	geo_from_wgs84(GEO_CRS_GCJ02, wlon, wlat, &glon, &glat);
	geo_from_wgs84(GEO_CRS_BD09, wlon, wlat, &blon, &blat);
	o = json_pack("{s:{s:f, s:f, s:s}}", "query", "lon", lon, "lat", lat,
	    "crs", geo_crs_name(crs));
	json_object_set_new(o, "wgs84", lonlat(wlon, wlat));
	json_object_set_new(o, "gcj02", lonlat(glon, glat));
	json_object_set_new(o, "bd09", lonlat(blon, blat));

	cap = fence_set_count(set);
	hits = xcalloc(cap + 1, sizeof(*hits));
	n = fence_set_query(set, wlon, wlat, hits, cap);
	inside = json_array();
	for (i = 0; i < n && i < cap; i++) {
		f = fencejson_info(set, hits[i]);
		loc = fence_set_locate(set, hits[i], wlon, wlat);
		json_object_set_new(f, "location",
		    json_string(loc == FENCE_ON ? "on" : "in"));
		json_object_set_new(f, "distance_m", json_real(round_to(
		    fence_set_distance_m(set, hits[i], wlon, wlat),
		    DIST_SCALE)));
		json_array_append_new(inside, f);
	}

	/*
	 * Nearby: a bounding box margin first (cheap), the distance only for
	 * fences that pass it.  A degree of latitude is 111 km everywhere;
	 * a degree of longitude shrinks with cos(lat).
	 */
	dlat = FENCEJSON_NEARBY_M / 111000.0;
	dlon = dlat / fmax(cos(wlat * M_PI / 180.0), 0.01);
	for (i = 0, j = 0; i < cap; i++) {
		if (j < n && hits[j] == i) {
			j++;
			continue;
		}
		fi = fence_set_info(set, i);
		if (wlon < fi->min_lon - dlon || wlon > fi->max_lon + dlon ||
		    wlat < fi->min_lat - dlat || wlat > fi->max_lat + dlat)
			continue;
		d = fence_set_distance_m(set, i, wlon, wlat);
		if (!(d <= FENCEJSON_NEARBY_M))
			continue;
		near[nn].idx = i;
		near[nn].dist_m = d;
		nn++;
		qsort(near, nn, sizeof(near[0]), near_cmp);
		if (nn > FENCEJSON_NEARBY)
			nn = FENCEJSON_NEARBY;
	}
	free(hits);
	nearby = json_array();
	for (i = 0; i < nn; i++) {
		f = fencejson_info(set, near[i].idx);
		json_object_set_new(f, "distance_m",
		    json_real(round_to(near[i].dist_m, DIST_SCALE)));
		json_array_append_new(nearby, f);
	}
	json_object_set_new(o, "inside", inside);
	json_object_set_new(o, "nearby", nearby);
	return o;
}

static const char *
str(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s == NULL || s[0] == '\0' ? "-" : s;
}

static double
num(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "circle r=150 m at 104.0665,30.5723", "polygon 2354 vertices", ... */
static void
shape_text(char *buf, size_t len, const json_t *f)
{
	const json_t	*c = json_object_get(f, "center");
	const char	*shape = str(f, "shape");

	if (strcmp(shape, "circle") == 0)
		snprintf(buf, len, "circle r=%.0f m at %.6f,%.6f",
		    num(f, "radius_m"), json_number_value(json_array_get(c, 0)),
		    json_number_value(json_array_get(c, 1)));
	else if (strcmp(shape, "corridor") == 0)
		snprintf(buf, len, "corridor %.0f m wide, %lld points",
		    num(f, "width_m"), (long long)num(f, "vertices"));
	else if (num(f, "parts") > 1 || num(f, "rings") > 1)
		snprintf(buf, len, "polygon %lld vertices, %lld parts, %lld "
		    "rings", (long long)num(f, "vertices"),
		    (long long)num(f, "parts"), (long long)num(f, "rings"));
	else
		snprintf(buf, len, "polygon %lld vertices",
		    (long long)num(f, "vertices"));
}

static void
print_row(FILE *fp, const json_t *f, const char *extra)
{
	const json_t	*bb = json_object_get(f, "bbox");
	char		 shape[96];

	shape_text(shape, sizeof(shape), f);
	fprintf(fp, "%-20s %-11s %-14s %-8s %-40s %.4f,%.4f..%.4f,%.4f%s%s"
	    "%s\n", str(f, "id"), str(f, "kind"), str(f, "category"),
	    str(f, "crs"), shape,
	    json_number_value(json_array_get(bb, 0)),
	    json_number_value(json_array_get(bb, 1)),
	    json_number_value(json_array_get(bb, 2)),
	    json_number_value(json_array_get(bb, 3)),
	    extra, strcmp(str(f, "name"), "-") != 0 ? "  " : "",
	    strcmp(str(f, "name"), "-") != 0 ? str(f, "name") : "");
}

static void
print_header(FILE *fp, const char *extra)
{
	fprintf(fp, "%-20s %-11s %-14s %-8s %-40s %s%s\n", "ID", "KIND",
	    "CATEGORY", "CRS", "SHAPE", "BBOX (WGS-84 W,S..E,N)", extra);
}

void
fencejson_print_list(FILE *fp, const json_t *fences)
{
	size_t	 i;

	if (json_array_size(fences) == 0) {
		fprintf(fp, "no fences\n");
		return;
	}
	print_header(fp, "");
	for (i = 0; i < json_array_size(fences); i++)
		print_row(fp, json_array_get(fences, i), "");
	fprintf(fp, "%zu fence%s\n", json_array_size(fences),
	    json_array_size(fences) == 1 ? "" : "s");
}

static void
print_section(FILE *fp, const json_t *list, bool inside)
{
	const json_t	*f;
	char		 extra[64];
	size_t		 i;

	print_header(fp, "  WHERE");
	for (i = 0; i < json_array_size(list); i++) {
		f = json_array_get(list, i);
		if (inside && strcmp(str(f, "location"), "on") == 0)
			snprintf(extra, sizeof(extra), "  on the boundary");
		else if (inside)
			snprintf(extra, sizeof(extra), "  %.1f m inside",
			    -num(f, "distance_m"));
		else
			snprintf(extra, sizeof(extra), "  %.1f m outside",
			    num(f, "distance_m"));
		print_row(fp, f, extra);
	}
}

void
fencejson_print_at(FILE *fp, const json_t *at)
{
	const json_t	*q = json_object_get(at, "query");
	const json_t	*w = json_object_get(at, "wgs84");
	const json_t	*g = json_object_get(at, "gcj02");
	const json_t	*b = json_object_get(at, "bd09");
	const json_t	*in = json_object_get(at, "inside");
	const json_t	*nb = json_object_get(at, "nearby");

	fprintf(fp, "point %.7f,%.7f (%s)\n", num(q, "lon"), num(q, "lat"),
	    str(q, "crs"));
	fprintf(fp, "  wgs84 %.7f,%.7f  gcj02 %.7f,%.7f  bd09 %.7f,%.7f\n",
	    json_number_value(json_array_get(w, 0)),
	    json_number_value(json_array_get(w, 1)),
	    json_number_value(json_array_get(g, 0)),
	    json_number_value(json_array_get(g, 1)),
	    json_number_value(json_array_get(b, 0)),
	    json_number_value(json_array_get(b, 1)));
	if (json_array_size(in) == 0)
		fprintf(fp, "inside no fence\n");
	else {
		fprintf(fp, "inside %zu fence%s:\n", json_array_size(in),
		    json_array_size(in) == 1 ? "" : "s");
		print_section(fp, in, true);
	}
	if (json_array_size(nb) == 0)
		fprintf(fp, "no other fence within %.0f m\n",
		    FENCEJSON_NEARBY_M);
	else {
		fprintf(fp, "nearby (within %.0f m):\n", FENCEJSON_NEARBY_M);
		print_section(fp, nb, false);
	}
}
