/* SPDX-License-Identifier: MIT */
/*
 * fencegen.c - the seeded reference fence set, fix streams and GEOS
 * oracle; see fencegen.h.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <geos_c.h>
#include <jansson.h>

#include "fence.h"
#include "geo.h"
#include "util.h"
#include "fencegen.h"

#define DEG2RAD(d)	((d) * (M_PI / 180.0))
/* Metres per degree of latitude on geo.h's sphere. */
#define M_PER_DEG	(GEO_EARTH_RADIUS_M * M_PI / 180.0)

/* Sub-streams of the seed, one per class and stream. */
#define STREAM_PROVINCE	1
#define STREAM_CITIES	2
#define STREAM_FORBID	3
#define STREAM_PARKING	4
#define STREAM_OFFICE	5
#define STREAM_RANDOM	6
#define STREAM_DRIVE	7

#define MAX_TRIES	100	/* draws of one fence before giving up */

/* Forbidden places (brief 5.2). */
#define FORBID_CIRCLE_SHARE	0.7
#define FORBID_CLUSTER_SHARE	0.8
#define FORBID_R_MIN_M		50.0
#define FORBID_R_MAX_M		500.0
#define FORBID_D_MIN_M		50.0	/* polygon, across */
#define FORBID_D_MAX_M		500.0
#define FORBID_NV_MIN		8
#define FORBID_NV_MAX		40
#define CITY_SIGMA_MIN_KM	5.0
#define CITY_SIGMA_MAX_KM	15.0

#define PARKING_NV_MIN		4
#define PARKING_NV_MAX		20
#define PARKING_D_MIN_M		30.0
#define PARKING_D_MAX_M		200.0
#define PARKING_AREA_M		20000.0	/* from Chengdu */

#define OFFICE_NV		16
#define OFFICE_R_M		75.0	/* about 150 m across */
#define COURTYARD_NV		8
#define COURTYARD_R_M		25.0
#define OFFICE_AREA_M		3000.0	/* from Chengdu */
#define ANNEX_R_M		80.0
#define ANNEX_AWAY_M		1500.0

/* The synthetic province. */
#define PROV_LON		103.0
#define PROV_LAT		30.5
#define PROV_HALF_LON		4.0
#define PROV_HALF_LAT		3.0
#define PROV_NV			2500

/* Star-shaped rings: each vertex at its own angle, jittered by at most
 * this share of the step, so angles increase and the ring is simple;
 * radii from STAR_R_MIN_SHARE of the outer radius up. */
#define STAR_JITTER		0.3
#define STAR_R_MIN_SHARE	0.5

/* The drive. */
#define DRIVE_V_MIN_MPS		8.0
#define DRIVE_V_MAX_MPS		30.0
#define DRIVE_HOME_M		20000.0	/* walk stays this near Chengdu */
#define DRIVE_TARGETS_M		25000.0	/* polygons to lap, from Chengdu */
#define DRIVE_NEAR_M		5000.0	/* prefer targets this near */
#define DRIVE_WALK_MIN_S	60
#define DRIVE_WALK_MAX_S	300
#define DRIVE_OFFSET_MIN_M	5.0
#define DRIVE_OFFSET_MAX_M	20.0
#define DRIVE_SIGMA_MIN_M	3.0
#define DRIVE_SIGMA_MAX_M	5.0
#define DRIVE_TURN_SD_DEG	8.0

/* City centres (gcoord fixture, brief 5.2). */
static const struct city {
	const char	*name;
	double		 lon, lat;
} cities[] = {
	{ "Chengdu", 104.066, 30.573 },
	{ "Mianyang", 104.679, 31.467 },
	{ "Deyang", 104.398, 31.127 },
	{ "Leshan", 103.766, 29.552 },
	{ "Nanchong", 106.11, 30.837 },
	{ "Yibin", 104.643, 28.752 },
	{ "Zigong", 104.778, 29.339 },
	{ "Luzhou", 105.442, 28.872 },
	{ "Dazhou", 107.468, 31.209 },
	{ "Suining", 105.593, 30.533 },
	{ "Neijiang", 105.058, 29.58 },
	{ "Meishan", 103.848, 30.075 },
	{ "Guang'an", 106.633, 30.456 },
	{ "Bazhong", 106.747, 31.867 },
	{ "Ya'an", 103.001, 29.987 },
	{ "Panzhihua", 101.718, 26.582 },
	{ "Xichang", 102.267, 27.882 },
	{ "Ma'erkang", 102.225, 31.899 },
	{ "Kangding", 101.964, 30.05 },
	{ "Guangyuan", 105.844, 32.435 },
	{ "Ziyang", 104.627, 30.129 },
};
#define NCITIES	NELEM(cities)

static void seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* ---- PRNG: splitmix64 seeds xoshiro256** ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	 z;

	z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
fencegen_rng_init(struct fencegen_rng *r, uint64_t seed)
{
	uint64_t	 x = seed;
	int		 i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
fencegen_rng_next(struct fencegen_rng *r)
{
	uint64_t	*s = r->s;
	uint64_t	 result, t;

	result = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* [0, 1) with 53 random bits. */
static double
unit(struct fencegen_rng *r)
{
	return (double)(fencegen_rng_next(r) >> 11) * 0x1.0p-53;
}

double
fencegen_uniform(struct fencegen_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * unit(r);
}

/* Integer in [lo, hi]. */
static size_t
irange(struct fencegen_rng *r, size_t lo, size_t hi)
{
	return lo + (size_t)(fencegen_rng_next(r) % (uint64_t)(hi - lo + 1));
}

double
fencegen_gauss(struct fencegen_rng *r)
{
	double	 u1, u2;

	/* Box-Muller, one value per call: simple and reproducible. */
	u1 = 1.0 - unit(r);	/* (0, 1] */
	u2 = unit(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void
stream(struct fencegen_rng *r, uint64_t seed, uint64_t which)
{
	fencegen_rng_init(r, seed ^ (which * UINT64_C(0xd1342543de82ef95)));
}

void
fencegen_sort(uint32_t *v, size_t n)
{
	size_t		 i, j;
	uint32_t	 x;

	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* ---- outlines ---- */

void
fencegen_outline_free(struct fencegen_outline *o)
{
	size_t	 i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nrings; i++)
		free(o->rings[i].lonlat);
	free(o->rings);
	memset(o, 0, sizeof(*o));
}

static int
read_ring(json_t *a, bool hole, struct fencegen_outline *o, char *why,
    size_t whylen)
{
	struct fencegen_ring	*r;
	json_t			*pos;
	size_t			 i, n;

	if (!json_is_array(a) || (n = json_array_size(a)) < 4) {
		seterr(why, whylen, "ring: not an array of 4 or more "
		    "positions");
		return -1;
	}
	o->rings = xreallocarray(o->rings, o->nrings + 1, sizeof(*o->rings));
	r = &o->rings[o->nrings++];
	r->hole = hole;
	r->npoints = 0;
	r->lonlat = xreallocarray(NULL, n, 2 * sizeof(double));
	json_array_foreach(a, i, pos) {
		if (!json_is_array(pos) || json_array_size(pos) < 2 ||
		    !json_is_number(json_array_get(pos, 0)) ||
		    !json_is_number(json_array_get(pos, 1))) {
			seterr(why, whylen, "ring: position %zu is not "
			    "[lon, lat]", i);
			return -1;
		}
		r->lonlat[2 * i] = json_number_value(json_array_get(pos, 0));
		r->lonlat[2 * i + 1] =
		    json_number_value(json_array_get(pos, 1));
	}
	r->npoints = n;
	/* GeoJSON closes rings; fence.h wants them open. */
	if (r->lonlat[0] == r->lonlat[2 * (n - 1)] &&
	    r->lonlat[1] == r->lonlat[2 * (n - 1) + 1])
		r->npoints--;
	o->vertices += r->npoints;
	return 0;
}

static int
read_polygon(json_t *rings, struct fencegen_outline *o, char *why,
    size_t whylen)
{
	json_t	*ring;
	size_t	 i;

	if (!json_is_array(rings) || json_array_size(rings) == 0) {
		seterr(why, whylen, "polygon without rings");
		return -1;
	}
	json_array_foreach(rings, i, ring)
		if (read_ring(ring, i > 0, o, why, whylen) == -1)
			return -1;
	return 0;
}

int
fencegen_outline_read(const char *path, struct fencegen_outline *out,
    char *why, size_t whylen)
{
	json_error_t	 jerr;
	json_t		*root, *g, *coords, *poly;
	FILE		*fp;
	const char	*type;
	size_t		 i;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((fp = fopen(path, "r")) == NULL) {
		seterr(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	root = json_loadf(fp, 0, &jerr);
	fclose(fp);
	if (root == NULL) {
		seterr(why, whylen, "%s:%d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	g = root;
	type = json_string_value(json_object_get(g, "type"));
	if (type != NULL && strcmp(type, "FeatureCollection") == 0) {
		g = json_array_get(json_object_get(g, "features"), 0);
		type = json_string_value(json_object_get(g, "type"));
	}
	if (type != NULL && strcmp(type, "Feature") == 0) {
		g = json_object_get(g, "geometry");
		type = json_string_value(json_object_get(g, "type"));
	}
	coords = json_object_get(g, "coordinates");
	if (type != NULL && strcmp(type, "Polygon") == 0)
		rc = read_polygon(coords, out, why, whylen);
	else if (type != NULL && strcmp(type, "MultiPolygon") == 0 &&
	    json_is_array(coords) && json_array_size(coords) > 0) {
		rc = 0;
		json_array_foreach(coords, i, poly)
			if ((rc = read_polygon(poly, out, why, whylen)) == -1)
				break;
	} else
		seterr(why, whylen, "no Polygon or MultiPolygon");
	if (rc == -1) {
		/* why already says what; name the file. */
		char	 tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", why != NULL ? why : "");
		seterr(why, whylen, "%s: %s", path, tmp);
		fencegen_outline_free(out);
	}
	json_decref(root);
	return rc;
}

/*
 * A star-shaped ring of nv vertices around (lon0, lat0), outer radius
 * rmax_m and inner rmin_share * rmax_m, into lonlat (2 * nv doubles),
 * counter-clockwise.
 */
static void
star(struct fencegen_rng *r, double lon0, double lat0, size_t nv,
    double rmax_m, double rmin_share, double *lonlat)
{
	double	 kx, phase, a, rad;
	size_t	 k;

	kx = M_PER_DEG * cos(DEG2RAD(lat0));
	phase = fencegen_uniform(r, 0.0, 2.0 * M_PI);
	for (k = 0; k < nv; k++) {
		a = phase + 2.0 * M_PI * ((double)k +
		    fencegen_uniform(r, -STAR_JITTER, STAR_JITTER)) /
		    (double)nv;
		rad = rmax_m * fencegen_uniform(r, rmin_share, 1.0);
		lonlat[2 * k] = lon0 + rad * cos(a) / kx;
		lonlat[2 * k + 1] = lat0 + rad * sin(a) / M_PER_DEG;
	}
}

void
fencegen_outline_synthetic(uint64_t seed, struct fencegen_outline *out)
{
	struct fencegen_rng	 r;
	double			 amp[3], ph[3], a, f;
	double			*p;
	size_t			 k, h;

	stream(&r, seed, STREAM_PROVINCE);
	for (h = 0; h < 3; h++) {
		amp[h] = fencegen_uniform(&r, 0.03, 0.08);
		ph[h] = fencegen_uniform(&r, 0.0, 2.0 * M_PI);
	}
	memset(out, 0, sizeof(*out));
	out->rings = xcalloc(1, sizeof(*out->rings));
	out->nrings = 1;
	out->vertices = PROV_NV;
	out->rings[0].npoints = PROV_NV;
	out->rings[0].lonlat = p = xcalloc(PROV_NV, 2 * sizeof(double));
	for (k = 0; k < PROV_NV; k++) {
		a = 2.0 * M_PI * ((double)k + fencegen_uniform(&r,
		    -STAR_JITTER, STAR_JITTER)) / PROV_NV;
		/* A wavy coast (three harmonics) and a rough one. */
		f = 0.82 + fencegen_uniform(&r, -0.02, 0.02);
		for (h = 0; h < 3; h++)
			f += amp[h] * sin((double)(h + 2) * a + ph[h]);
		p[2 * k] = PROV_LON + PROV_HALF_LON * f * cos(a);
		p[2 * k + 1] = PROV_LAT + PROV_HALF_LAT * f * sin(a);
	}
}

int
fencegen_add_outline(struct fence_builder *b, const struct fence_spec *spec,
    const struct fencegen_outline *o, char *why, size_t whylen)
{
	size_t	 i;

	if (fence_builder_begin(b, spec, why, whylen) == -1)
		return -1;
	for (i = 0; i < o->nrings; i++) {
		if (!o->rings[i].hole &&
		    fence_builder_part(b, why, whylen) == -1)
			return -1;
		if (fence_builder_ring(b, o->rings[i].lonlat,
		    o->rings[i].npoints, why, whylen) == -1)
			return -1;
	}
	return fence_builder_end(b, why, whylen);
}

/* ---- the reference set ---- */

struct gen {
	struct fence_builder	*b;
	struct fencegen_stats	*st;
};

static void
note_retry(struct gen *g, const char *id, const char *why)
{
	g->st->retries++;
	if (g->st->retry_why[0] == '\0')
		snprintf(g->st->retry_why, sizeof(g->st->retry_why), "%s: %s",
		    id, why);
}

static int
add_circle(struct gen *g, const struct fence_spec *spec, double lon,
    double lat, double r_m, char *why, size_t whylen)
{
	if (fence_builder_begin(g->b, spec, why, whylen) == -1 ||
	    fence_builder_circle(g->b, lon, lat, r_m, why, whylen) == -1 ||
	    fence_builder_end(g->b, why, whylen) == -1)
		return -1;
	g->st->circles++;
	return 0;
}

/* One part: a shell and at most one hole (nhole 0: none). */
static int
add_polygon(struct gen *g, const struct fence_spec *spec,
    const double *shell, size_t nshell, const double *hole, size_t nhole,
    char *why, size_t whylen)
{
	if (fence_builder_begin(g->b, spec, why, whylen) == -1 ||
	    fence_builder_part(g->b, why, whylen) == -1 ||
	    fence_builder_ring(g->b, shell, nshell, why, whylen) == -1 ||
	    (nhole > 0 &&
	    fence_builder_ring(g->b, hole, nhole, why, whylen) == -1) ||
	    fence_builder_end(g->b, why, whylen) == -1)
		return -1;
	g->st->polygons++;
	return 0;
}

/* A point dist_m from (lon, lat) at a uniform bearing, flat frame. */
static void
offset_m(double lon, double lat, double dx_m, double dy_m, double *olon,
    double *olat)
{
	*olon = lon + dx_m / (M_PER_DEG * cos(DEG2RAD(lat)));
	*olat = lat + dy_m / M_PER_DEG;
}

static void
in_disk(struct fencegen_rng *r, double lon, double lat, double radius_m,
    double *olon, double *olat)
{
	double	 d, a;

	d = radius_m * sqrt(unit(r));
	a = fencegen_uniform(r, 0.0, 2.0 * M_PI);
	offset_m(lon, lat, d * cos(a), d * sin(a), olon, olat);
}

static int
gen_forbidden(struct gen *g, uint64_t seed, size_t n, char *why,
    size_t whylen)
{
	struct fencegen_rng	 r, rc;
	struct fence_spec	 spec;
	double			 sigma_m[NCITIES], ring[2 * FORBID_NV_MAX];
	double			 lon, lat, dx, dy;
	char			 id[FENCE_ID_MAX + 1], err[256];
	size_t			 i, c, nv, t;
	int			 rc_add;

	stream(&rc, seed, STREAM_CITIES);
	for (c = 0; c < NCITIES; c++)
		sigma_m[c] = 1000.0 * fencegen_uniform(&rc,
		    CITY_SIGMA_MIN_KM, CITY_SIGMA_MAX_KM);
	stream(&r, seed, STREAM_FORBID);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "forbidden-%05zu", i + 1);
		memset(&spec, 0, sizeof(spec));
		spec.id = id;
		spec.kind = FENCE_FORBIDDEN;
		spec.category = "entertainment";
		spec.crs = i % 2 ? GEO_CRS_GCJ02 : GEO_CRS_WGS84;
		spec.dwell_s = -1;
		for (t = 0; t < MAX_TRIES; t++) {
			/* In the crs of the fence: GCJ-02 fences are drawn
			 * on a GCJ-02 map around the same places. */
			if (unit(&r) < FORBID_CLUSTER_SHARE) {
				c = irange(&r, 0, NCITIES - 1);
				dx = sigma_m[c] * fencegen_gauss(&r);
				dy = sigma_m[c] * fencegen_gauss(&r);
				offset_m(cities[c].lon, cities[c].lat, dx, dy,
				    &lon, &lat);
			} else {
				lon = fencegen_uniform(&r, FENCEGEN_WEST,
				    FENCEGEN_EAST);
				lat = fencegen_uniform(&r, FENCEGEN_SOUTH,
				    FENCEGEN_NORTH);
			}
			if (unit(&r) < FORBID_CIRCLE_SHARE)
				rc_add = add_circle(g, &spec, lon, lat,
				    fencegen_uniform(&r, FORBID_R_MIN_M,
				    FORBID_R_MAX_M), err, sizeof(err));
			else {
				nv = irange(&r, FORBID_NV_MIN, FORBID_NV_MAX);
				star(&r, lon, lat, nv, fencegen_uniform(&r,
				    FORBID_D_MIN_M, FORBID_D_MAX_M) / 2.0,
				    STAR_R_MIN_SHARE, ring);
				rc_add = add_polygon(g, &spec, ring, nv, NULL,
				    0, err, sizeof(err));
			}
			if (rc_add == 0)
				break;
			note_retry(g, id, err);
		}
		if (t == MAX_TRIES) {
			seterr(why, whylen, "%s: rejected %d times: %s", id,
			    MAX_TRIES, err);
			return -1;
		}
		if (spec.crs == GEO_CRS_GCJ02)
			g->st->gcj02++;
	}
	return 0;
}

static int
gen_parking(struct gen *g, uint64_t seed, size_t n, char *why,
    size_t whylen)
{
	struct fencegen_rng	 r;
	struct fence_spec	 spec;
	double			 ring[2 * PARKING_NV_MAX], lon, lat;
	char			 id[FENCE_ID_MAX + 1], err[256];
	size_t			 i, nv, t;

	stream(&r, seed, STREAM_PARKING);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "parking-%02zu", i + 1);
		memset(&spec, 0, sizeof(spec));
		spec.id = id;
		spec.kind = FENCE_PARKING;
		spec.crs = i % 2 ? GEO_CRS_GCJ02 : GEO_CRS_WGS84;
		spec.dwell_s = -1;
		for (t = 0; t < MAX_TRIES; t++) {
			in_disk(&r, FENCEGEN_CHENGDU_LON, FENCEGEN_CHENGDU_LAT,
			    PARKING_AREA_M, &lon, &lat);
			nv = irange(&r, PARKING_NV_MIN, PARKING_NV_MAX);
			star(&r, lon, lat, nv, fencegen_uniform(&r,
			    PARKING_D_MIN_M, PARKING_D_MAX_M) / 2.0,
			    STAR_R_MIN_SHARE, ring);
			if (add_polygon(g, &spec, ring, nv, NULL, 0, err,
			    sizeof(err)) == 0)
				break;
			note_retry(g, id, err);
		}
		if (t == MAX_TRIES) {
			seterr(why, whylen, "%s: rejected %d times: %s", id,
			    MAX_TRIES, err);
			return -1;
		}
		if (spec.crs == GEO_CRS_GCJ02)
			g->st->gcj02++;
	}
	return 0;
}

static int
gen_office(struct gen *g, uint64_t seed, char *why, size_t whylen)
{
	struct fencegen_rng	 r;
	struct fence_spec	 spec;
	double			 shell[2 * OFFICE_NV], hole[2 * COURTYARD_NV];
	double			 lon, lat, alon, alat, a;
	char			 err[256];
	size_t			 t;

	stream(&r, seed, STREAM_OFFICE);
	memset(&spec, 0, sizeof(spec));
	spec.id = "office";
	spec.name = "compound";
	spec.kind = FENCE_OFFICE;
	spec.crs = GEO_CRS_GCJ02;
	spec.dwell_s = -1;
	for (t = 0; t < MAX_TRIES; t++) {
		in_disk(&r, FENCEGEN_CHENGDU_LON, FENCEGEN_CHENGDU_LAT,
		    OFFICE_AREA_M, &lon, &lat);
		/* Shell from 0.85 R out, courtyard within 0.4 R: the hole
		 * is inside whatever the draw. */
		star(&r, lon, lat, OFFICE_NV, OFFICE_R_M, 0.85, shell);
		star(&r, lon, lat, COURTYARD_NV, COURTYARD_R_M, 0.6, hole);
		if (add_polygon(g, &spec, shell, OFFICE_NV, hole,
		    COURTYARD_NV, err, sizeof(err)) == 0)
			break;
		note_retry(g, spec.id, err);
	}
	if (t == MAX_TRIES) {
		seterr(why, whylen, "office: rejected %d times: %s",
		    MAX_TRIES, err);
		return -1;
	}
	g->st->gcj02++;

	spec.id = "office-annex";
	spec.name = "annex";
	spec.crs = GEO_CRS_WGS84;
	for (t = 0; t < MAX_TRIES; t++) {
		a = fencegen_uniform(&r, 0.0, 2.0 * M_PI);
		offset_m(lon, lat, ANNEX_AWAY_M * cos(a), ANNEX_AWAY_M * sin(a),
		    &alon, &alat);
		if (add_circle(g, &spec, alon, alat, ANNEX_R_M, err,
		    sizeof(err)) == 0)
			break;
		note_retry(g, spec.id, err);
	}
	if (t == MAX_TRIES) {
		seterr(why, whylen, "office-annex: rejected %d times: %s",
		    MAX_TRIES, err);
		return -1;
	}
	return 0;
}

int
fencegen_build(struct fence_builder *b, const struct fencegen_opts *opts,
    struct fencegen_stats *stats, char *why, size_t whylen)
{
	struct fencegen_stats	 dummy;
	struct fencegen_outline	 o;
	struct fence_spec	 spec;
	struct gen		 g;
	char			 err[256];
	int			 rc;

	g.b = b;
	g.st = stats != NULL ? stats : &dummy;
	memset(g.st, 0, sizeof(*g.st));

	/* A file that is there must be good; one that is not is fine. */
	if (opts->province_path != NULL &&
	    access(opts->province_path, F_OK) == 0) {
		if (fencegen_outline_read(opts->province_path, &o, err,
		    sizeof(err)) == -1) {
			seterr(why, whylen, "province: %s", err);
			return -1;
		}
		g.st->province_file = true;
	} else
		fencegen_outline_synthetic(opts->seed, &o);
	g.st->province_vertices = o.vertices;
	memset(&spec, 0, sizeof(spec));
	spec.id = "province";
	spec.name = "Sichuan";
	spec.kind = FENCE_REGION;
	spec.crs = GEO_CRS_WGS84;
	spec.dwell_s = -1;
	rc = fencegen_add_outline(b, &spec, &o, err, sizeof(err));
	fencegen_outline_free(&o);
	if (rc == -1) {
		seterr(why, whylen, "province: %s", err);
		return -1;
	}
	g.st->polygons++;

	if (gen_forbidden(&g, opts->seed, opts->forbidden, why, whylen) == -1 ||
	    gen_parking(&g, opts->seed, opts->parking, why, whylen) == -1 ||
	    gen_office(&g, opts->seed, why, whylen) == -1)
		return -1;
	g.st->fences = fence_builder_count(b);
	return 0;
}

/* ---- fix streams ---- */

void
fencegen_random_points(uint64_t seed, size_t n, double *lonlat)
{
	struct fencegen_rng	 r;
	size_t			 i;

	stream(&r, seed, STREAM_RANDOM);
	for (i = 0; i < n; i++) {
		lonlat[2 * i] = fencegen_uniform(&r, FENCEGEN_WEST,
		    FENCEGEN_EAST);
		lonlat[2 * i + 1] = fencegen_uniform(&r, FENCEGEN_SOUTH,
		    FENCEGEN_NORTH);
	}
}

/* A path in a local flat frame (metres east, north of lon0, lat0). */
struct path {
	double		 lon0, lat0, kx;
	double		*xy;
	size_t		 n, cap;
};

static void
path_add(struct path *p, double x, double y)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->xy = xreallocarray(p->xy, p->cap, 2 * sizeof(double));
	}
	p->xy[2 * p->n] = x;
	p->xy[2 * p->n + 1] = y;
	p->n++;
}

static double
clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct drive {
	struct fencegen_rng	 r;
	double			*out;
	size_t			 i, n;
	double			 lon, lat;	/* true position */
	double			 v_mps, heading_deg, sigma_m;
};

static void
emit(struct drive *d)
{
	double	 lon, lat;

	offset_m(d->lon, d->lat, d->sigma_m * fencegen_gauss(&d->r),
	    d->sigma_m * fencegen_gauss(&d->r), &lon, &lat);
	d->out[2 * d->i] = lon;
	d->out[2 * d->i + 1] = lat;
	d->i++;
}

static void
new_speed(struct drive *d)
{
	d->v_mps = clamp(d->v_mps + fencegen_gauss(&d->r), DRIVE_V_MIN_MPS,
	    DRIVE_V_MAX_MPS);
}

static void
walk(struct drive *d)
{
	double		 home, bearing, diff, lat, lon;
	size_t		 k, steps;

	steps = irange(&d->r, DRIVE_WALK_MIN_S, DRIVE_WALK_MAX_S);
	d->sigma_m = fencegen_uniform(&d->r, DRIVE_SIGMA_MIN_M,
	    DRIVE_SIGMA_MAX_M);
	for (k = 0; k < steps && d->i < d->n; k++) {
		new_speed(d);
		d->heading_deg += DRIVE_TURN_SD_DEG * fencegen_gauss(&d->r);
		home = geo_distance_m(d->lat, d->lon, FENCEGEN_CHENGDU_LAT,
		    FENCEGEN_CHENGDU_LON);
		if (home > DRIVE_HOME_M) {
			/* Turn half way back towards the centre. */
			bearing = atan2((FENCEGEN_CHENGDU_LON - d->lon) *
			    cos(DEG2RAD(d->lat)), FENCEGEN_CHENGDU_LAT -
			    d->lat) * 180.0 / M_PI;
			diff = remainder(bearing - d->heading_deg, 360.0);
			d->heading_deg += diff / 2.0;
		}
		d->heading_deg = fmod(d->heading_deg + 360.0, 360.0);
		geo_destination(d->lat, d->lon, d->heading_deg, d->v_mps, &lat,
		    &lon);
		d->lat = lat;
		d->lon = lon;
		emit(d);
	}
}

/* Drive along p (from its first point) at 1 Hz, speed varying. */
static void
follow(struct drive *d, const struct path *p)
{
	double		 s, seg, x0, y0, x1, y1, f;
	size_t		 k;

	d->sigma_m = fencegen_uniform(&d->r, DRIVE_SIGMA_MIN_M,
	    DRIVE_SIGMA_MAX_M);
	/* Metres into segment k; the first point is where we are. */
	s = d->v_mps;
	for (k = 0; k + 1 < p->n && d->i < d->n; ) {
		x0 = p->xy[2 * k];
		y0 = p->xy[2 * k + 1];
		x1 = p->xy[2 * k + 2];
		y1 = p->xy[2 * k + 3];
		seg = hypot(x1 - x0, y1 - y0);
		if (s >= seg) {
			s -= seg;
			k++;
			continue;
		}
		f = seg > 0.0 ? s / seg : 0.0;
		d->lon = p->lon0 + (x0 + f * (x1 - x0)) / p->kx;
		d->lat = p->lat0 + (y0 + f * (y1 - y0)) / M_PER_DEG;
		emit(d);
		new_speed(d);
		s += d->v_mps;
		d->heading_deg = atan2(x1 - x0, y1 - y0) * 180.0 / M_PI;
	}
}

/*
 * The path from the current position to the ring offset by off_m to the
 * left of each edge (negative: right), once around and then some.
 */
static void
lap_path(struct drive *d, const int32_t *xy, size_t nv, double off_m,
    struct path *p)
{
	double		 ax, ay, bx, by, len, nx, ny;
	size_t		 k, start, extra;

	p->n = 0;
	p->lon0 = xy[0] * FENCE_LATTICE_DEG;
	p->lat0 = xy[1] * FENCE_LATTICE_DEG;
	p->kx = M_PER_DEG * cos(DEG2RAD(p->lat0));
	path_add(p, (d->lon - p->lon0) * p->kx, (d->lat - p->lat0) *
	    M_PER_DEG);
	start = irange(&d->r, 0, nv - 1);
	extra = irange(&d->r, 0, nv / 2);
	for (k = start; k < start + nv + extra; k++) {
		ax = (xy[2 * (k % nv)] * FENCE_LATTICE_DEG - p->lon0) * p->kx;
		ay = (xy[2 * (k % nv) + 1] * FENCE_LATTICE_DEG - p->lat0) *
		    M_PER_DEG;
		bx = (xy[2 * ((k + 1) % nv)] * FENCE_LATTICE_DEG - p->lon0) *
		    p->kx;
		by = (xy[2 * ((k + 1) % nv) + 1] * FENCE_LATTICE_DEG -
		    p->lat0) * M_PER_DEG;
		if ((len = hypot(bx - ax, by - ay)) == 0.0)
			continue;
		nx = -(by - ay) / len;
		ny = (bx - ax) / len;
		path_add(p, ax + off_m * nx, ay + off_m * ny);
		path_add(p, bx + off_m * nx, by + off_m * ny);
	}
}

size_t
fencegen_drive(const struct fence_set *set, uint64_t seed, size_t n,
    double *lonlat)
{
	const struct fence_info	*fi;
	struct drive		 d;
	struct path		 p;
	const int32_t		*xy;
	size_t			*targets, ntargets, *near, nnear;
	size_t			 i, f, r, nv, laps = 0;
	double			 clon, clat, off;
	bool			 hole;

	memset(&d, 0, sizeof(d));
	memset(&p, 0, sizeof(p));
	stream(&d.r, seed, STREAM_DRIVE);
	d.out = lonlat;
	d.n = n;
	d.lon = FENCEGEN_CHENGDU_LON;
	d.lat = FENCEGEN_CHENGDU_LAT;
	d.v_mps = fencegen_uniform(&d.r, DRIVE_V_MIN_MPS, DRIVE_V_MAX_MPS);
	d.heading_deg = fencegen_uniform(&d.r, 0.0, 360.0);

	/* Polygons near Chengdu worth a lap. */
	targets = xcalloc(fence_set_count(set), sizeof(*targets));
	near = xcalloc(fence_set_count(set), sizeof(*near));
	ntargets = 0;
	for (f = 0; f < fence_set_count(set); f++) {
		fi = fence_set_info(set, f);
		if (fi->shape != FENCE_SHAPE_POLYGON || fi->large)
			continue;
		clon = (fi->min_lon + fi->max_lon) / 2.0;
		clat = (fi->min_lat + fi->max_lat) / 2.0;
		if (geo_distance_m(clat, clon, FENCEGEN_CHENGDU_LAT,
		    FENCEGEN_CHENGDU_LON) <= DRIVE_TARGETS_M)
			targets[ntargets++] = f;
	}

	while (d.i < n) {
		walk(&d);
		if (ntargets == 0 || d.i >= n)
			continue;
		nnear = 0;
		for (i = 0; i < ntargets; i++) {
			fi = fence_set_info(set, targets[i]);
			clon = (fi->min_lon + fi->max_lon) / 2.0;
			clat = (fi->min_lat + fi->max_lat) / 2.0;
			if (geo_distance_m(clat, clon, d.lat, d.lon) <=
			    DRIVE_NEAR_M)
				near[nnear++] = targets[i];
		}
		f = nnear > 0 ? near[irange(&d.r, 0, nnear - 1)] :
		    targets[irange(&d.r, 0, ntargets - 1)];
		fi = fence_set_info(set, f);
		r = irange(&d.r, 0, fi->rings - 1);
		if (fence_set_ring(set, f, r, &xy, &nv, &hole) == -1 || nv < 3)
			continue;
		off = fencegen_uniform(&d.r, DRIVE_OFFSET_MIN_M,
		    DRIVE_OFFSET_MAX_M);
		if (unit(&d.r) < 0.5)
			off = -off;
		lap_path(&d, xy, nv, off, &p);
		follow(&d, &p);
		laps++;
	}
	free(p.xy);
	free(targets);
	free(near);
	return laps;
}

/* ---- boundary distance ---- */

static double
seg_dist_m(double px, double py, double ax, double ay, double bx, double by)
{
	double	 dx = bx - ax, dy = by - ay, t, l2;

	l2 = dx * dx + dy * dy;
	t = l2 > 0.0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0.0;
	t = clamp(t, 0.0, 1.0);
	return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

double
fencegen_boundary_m(const struct fence_set *set, size_t idx, double lon,
    double lat)
{
	const struct fence_info	*fi;
	const int32_t		*xy;
	size_t			 r, k, nv, nseg;
	double			 kx, best = INFINITY, dd, ax, ay, bx, by;
	bool			 hole;

	if ((fi = fence_set_info(set, idx)) == NULL)
		return NAN;
	if (fi->shape == FENCE_SHAPE_CIRCLE)
		return fabs(geo_distance_m(lat, lon, fi->center_lat,
		    fi->center_lon) - fi->radius_m);
	kx = M_PER_DEG * cos(DEG2RAD(lat));
	for (r = 0; fence_set_ring(set, idx, r, &xy, &nv, &hole) == 0; r++) {
		/* A corridor's polyline is open. */
		nseg = fi->shape == FENCE_SHAPE_CORRIDOR ? nv - 1 : nv;
		for (k = 0; k < nseg; k++) {
			ax = (xy[2 * k] * FENCE_LATTICE_DEG - lon) * kx;
			ay = (xy[2 * k + 1] * FENCE_LATTICE_DEG - lat) *
			    M_PER_DEG;
			bx = (xy[2 * ((k + 1) % nv)] * FENCE_LATTICE_DEG -
			    lon) * kx;
			by = (xy[2 * ((k + 1) % nv) + 1] * FENCE_LATTICE_DEG -
			    lat) * M_PER_DEG;
			dd = seg_dist_m(0.0, 0.0, ax, ay, bx, by);
			if (dd < best)
				best = dd;
		}
	}
	if (fi->shape == FENCE_SHAPE_CORRIDOR)
		best = fabs(best - fi->radius_m);
	return best;
}

/* ---- the GEOS oracle ---- */

struct oracle_fence {
	uint32_t		 idx;
	bool			 circle;
	double			 lon, lat, radius_m;	/* circle */
	const GEOSPreparedGeometry *prep;		/* polygon */
};

struct fencegen_geos {
	GEOSContextHandle_t	 ctx;
	size_t			 n;
	struct oracle_fence	*f;
	GEOSGeometry		**geom;	/* polygon, or a circle's envelope */
	GEOSSTRtree		*tree;
	struct oracle_fence	**cand;
	size_t			 ncand, candcap;
	char			 err[256];
};

static void
geos_error(const char *msg, void *arg)
{
	struct fencegen_geos	*g = arg;

	snprintf(g->err, sizeof(g->err), "%s", msg);
}

static void
geos_notice(const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
}

/* A closed GEOS ring from a stored open ring. */
static GEOSGeometry *
geos_ring(struct fencegen_geos *g, const int32_t *xy, size_t nv)
{
	GEOSCoordSequence	*cs;
	double			*buf;
	size_t			 k;

	buf = xcalloc(nv + 1, 2 * sizeof(double));
	for (k = 0; k <= nv; k++) {
		buf[2 * k] = xy[2 * (k % nv)] * FENCE_LATTICE_DEG;
		buf[2 * k + 1] = xy[2 * (k % nv) + 1] * FENCE_LATTICE_DEG;
	}
	cs = GEOSCoordSeq_copyFromBuffer_r(g->ctx, buf, (unsigned)(nv + 1), 0,
	    0);
	free(buf);
	if (cs == NULL)
		return NULL;
	return GEOSGeom_createLinearRing_r(g->ctx, cs);
}

static GEOSGeometry *
geos_polygon(struct fencegen_geos *g, const struct fence_set *set,
    size_t idx, size_t nrings)
{
	GEOSGeometry	**parts, **holes, *shell = NULL, *ring, *out;
	const int32_t	*xy;
	size_t		 r, nv, nparts = 0, nholes = 0;
	bool		 hole;

	parts = xcalloc(nrings, sizeof(*parts));
	holes = xcalloc(nrings, sizeof(*holes));
	for (r = 0; r <= nrings; r++) {
		if (r < nrings) {
			if (fence_set_ring(set, idx, r, &xy, &nv, &hole) == -1 ||
			    (ring = geos_ring(g, xy, nv)) == NULL)
				goto fail;
		} else {
			ring = NULL;
			hole = false;
		}
		if (!hole && shell != NULL) {
			/* Close the part before this shell. */
			parts[nparts] = GEOSGeom_createPolygon_r(g->ctx, shell,
			    holes, (unsigned)nholes);
			shell = NULL;
			nholes = 0;
			if (parts[nparts++] == NULL)
				goto fail_ring;
		}
		if (ring == NULL)
			break;
		if (hole && shell == NULL) {
			snprintf(g->err, sizeof(g->err), "hole before shell");
			goto fail_ring;
		}
		if (hole)
			holes[nholes++] = ring;
		else
			shell = ring;
	}
	if (nparts == 1)
		out = parts[0];
	else
		out = GEOSGeom_createCollection_r(g->ctx, GEOS_MULTIPOLYGON,
		    parts, (unsigned)nparts);
	free(parts);
	free(holes);
	return out;

fail_ring:
	if (ring != NULL)
		GEOSGeom_destroy_r(g->ctx, ring);
fail:
	if (shell != NULL)
		GEOSGeom_destroy_r(g->ctx, shell);
	while (nholes > 0)
		GEOSGeom_destroy_r(g->ctx, holes[--nholes]);
	while (nparts > 0)
		if (parts[--nparts] != NULL)
			GEOSGeom_destroy_r(g->ctx, parts[nparts]);
	free(parts);
	free(holes);
	return NULL;
}

struct fencegen_geos *
fencegen_geos_new(const struct fence_set *set, char *why, size_t whylen)
{
	const struct fence_info	*fi;
	struct fencegen_geos	*g;
	struct oracle_fence	*of;
	double			 dlat, dlon;
	size_t			 i = 0;

	g = xcalloc(1, sizeof(*g));
	g->ctx = GEOS_init_r();
	GEOSContext_setErrorMessageHandler_r(g->ctx, geos_error, g);
	GEOSContext_setNoticeMessageHandler_r(g->ctx, geos_notice, g);
	g->n = fence_set_count(set);
	g->f = xcalloc(g->n, sizeof(*g->f));
	g->geom = xcalloc(g->n, sizeof(*g->geom));
	g->candcap = 64;
	g->cand = xcalloc(g->candcap, sizeof(*g->cand));
	/* Node capacity 10, GEOS's own default in its C API docs. */
	if ((g->tree = GEOSSTRtree_create_r(g->ctx, 10)) == NULL)
		goto fail;
	for (i = 0; i < g->n; i++) {
		fi = fence_set_info(set, i);
		of = &g->f[i];
		of->idx = (uint32_t)i;
		switch (fi->shape) {
		case FENCE_SHAPE_CIRCLE:
			of->circle = true;
			of->lon = fi->center_lon;
			of->lat = fi->center_lat;
			of->radius_m = fi->radius_m;
			/* Our own envelope, 1 % and 1 m wider than the
			 * circle, not the engine's bbox. */
			dlat = (fi->radius_m + 1.0) * 1.01 / M_PER_DEG;
			dlon = dlat / cos(DEG2RAD(fabs(fi->center_lat) + dlat));
			g->geom[i] = GEOSGeom_createRectangle_r(g->ctx,
			    fi->center_lon - dlon, fi->center_lat - dlat,
			    fi->center_lon + dlon, fi->center_lat + dlat);
			break;
		case FENCE_SHAPE_POLYGON:
			g->geom[i] = geos_polygon(g, set, i, fi->rings);
			if (g->geom[i] != NULL &&
			    (of->prep = GEOSPrepare_r(g->ctx, g->geom[i])) ==
			    NULL)
				goto fail;
			break;
		default:
			snprintf(g->err, sizeof(g->err), "%s: corridors are "
			    "not supported", fi->id);
			goto fail;
		}
		if (g->geom[i] == NULL)
			goto fail;
		/* The tree keeps the envelope, the geometry stays ours. */
		GEOSSTRtree_insert_r(g->ctx, g->tree, g->geom[i], of);
	}
	return g;

fail:
	seterr(why, whylen, "geos: fence %zu: %s", i, g->err[0] ? g->err :
	    "failed");
	fencegen_geos_free(g);
	return NULL;
}

void
fencegen_geos_free(struct fencegen_geos *g)
{
	size_t	 i;

	if (g == NULL)
		return;
	if (g->tree != NULL)
		GEOSSTRtree_destroy_r(g->ctx, g->tree);
	for (i = 0; i < g->n; i++) {
		if (g->f[i].prep != NULL)
			GEOSPreparedGeom_destroy_r(g->ctx, g->f[i].prep);
		if (g->geom[i] != NULL)
			GEOSGeom_destroy_r(g->ctx, g->geom[i]);
	}
	GEOS_finish_r(g->ctx);
	free(g->f);
	free(g->geom);
	free(g->cand);
	free(g);
}

static void
collect(void *item, void *arg)
{
	struct fencegen_geos	*g = arg;

	if (g->ncand == g->candcap) {
		g->candcap *= 2;
		g->cand = xreallocarray(g->cand, g->candcap,
		    sizeof(*g->cand));
	}
	g->cand[g->ncand++] = item;
}

size_t
fencegen_geos_query(struct fencegen_geos *g, double lon, double lat,
    uint32_t *out, size_t max)
{
	struct oracle_fence	*of;
	GEOSGeometry		*pt;
	size_t			 i, n = 0;
	bool			 in;

	if (!isfinite(lon) || !isfinite(lat))
		return 0;
	if ((pt = GEOSGeom_createPointFromXY_r(g->ctx, lon, lat)) == NULL)
		return 0;
	g->ncand = 0;
	GEOSSTRtree_query_r(g->ctx, g->tree, pt, collect, g);
	for (i = 0; i < g->ncand; i++) {
		of = g->cand[i];
		if (of->circle)
			in = geo_distance_m(lat, lon, of->lat, of->lon) <=
			    of->radius_m;
		else
			in = GEOSPreparedIntersects_r(g->ctx, of->prep, pt) ==
			    1;
		if (in) {
			if (n < max)
				out[n] = of->idx;
			n++;
		}
	}
	GEOSGeom_destroy_r(g->ctx, pt);
	return n;
}

const char *
fencegen_geos_version(void)
{
	return GEOSversion();
}

void
fencegen_compare(const struct fence_set *set, struct fencegen_geos *g,
    const char *label, size_t fixno, double lon, double lat,
    struct fencegen_diff *d)
{
	uint32_t	 a[FENCEGEN_MAX_HITS], b[FENCEGEN_MAX_HITS], f;
	size_t		 na, nb, ia, ib, far = 0, near = 0;
	double		 dist, mine;
	bool		 in_a;

	d->fixes++;
	na = fence_set_query(set, lon, lat, a, FENCEGEN_MAX_HITS);
	nb = fencegen_geos_query(g, lon, lat, b, FENCEGEN_MAX_HITS);
	if (na > FENCEGEN_MAX_HITS || nb > FENCEGEN_MAX_HITS) {
		d->overflow++;
		return;
	}
	if (na > 0) {
		d->covered++;
		d->hits += na;
	}
	fencegen_sort(b, nb);
	if (na == nb && memcmp(a, b, na * sizeof(*a)) == 0)
		return;
	/* The symmetric difference of two sorted lists. */
	for (ia = ib = 0; ia < na || ib < nb; ) {
		if (ib == nb || (ia < na && a[ia] < b[ib])) {
			f = a[ia++];
			in_a = true;
		} else if (ia == na || b[ib] < a[ia]) {
			f = b[ib++];
			in_a = false;
		} else {
			ia++;
			ib++;
			continue;
		}
		dist = fence_set_distance_m(set, f, lon, lat);
		mine = fencegen_boundary_m(set, f, lon, lat);
		if (!(fabs(fabs(dist) - mine) <= FENCEGEN_BOUNDARY_M)) {
			if (d->mismatch < FENCEGEN_SHOW)
				fprintf(stderr, "%s: fix %zu (%.9f, %.9f): "
				    "fence %u %s: fence_set_distance_m %.4f m, "
				    "fencegen %.4f m\n", label, fixno, lon,
				    lat, f, fence_set_info(set, f)->id, dist,
				    mine);
			d->mismatch++;
		}
		if (fabs(dist) <= FENCEGEN_BOUNDARY_M) {
			near++;
			continue;
		}
		if (d->disagree + far < FENCEGEN_SHOW)
			fprintf(stderr, "%s: fix %zu (%.9f, %.9f): fence %u %s "
			    "(%s): ours %s, geos %s, %.4f m from the "
			    "boundary\n", label, fixno, lon, lat, f,
			    fence_set_info(set, f)->id,
			    fence_shape_name(fence_set_info(set, f)->shape),
			    in_a ? "in" : "out", in_a ? "out" : "in", dist);
		far++;
	}
	if (far > 0)
		d->disagree++;
	else if (near > 0)
		d->boundary++;
}
