/* SPDX-License-Identifier: MIT */
/*
 * test_fence_geos.c - the fence engine against GEOS, the differential
 * oracle of the geofence brief (section 5.1 "correctness"):
 *
 *   sichuan_outline   10^6 random points in the Sichuan bbox against the
 *                     Natural Earth outline (../shared/testdata/geo, or
 *                     $FLEETGW_GEO_TESTDATA; skipped when absent):
 *                     fence_set_locate() and fence_set_query() against
 *                     GEOSPreparedCovers_r on the outline as published
 *   reference_set     the seeded reference set of fencegen.h (synthetic
 *                     province, 10,000 forbidden places, 50 lots, the
 *                     office, half GCJ-02) with 10^6 random points and a
 *                     100,000-fix drive: polygons against
 *                     GEOSPreparedIntersects_r on the snapped WGS-84
 *                     rings of fence_set_ring(), circles against
 *                     geo_distance_m() <= radius
 *   vertices          every stored vertex of every polygon of the set is
 *                     FENCE_ON, covered by the query and by GEOS
 *   vertex_latitudes  lattice points around every vertex and on the
 *                     horizontal line through it (rays through vertices,
 *                     the classic double count): off the boundary, ours
 *                     and GEOS must agree exactly, however near
 *
 * No disagreement is allowed farther than 1 cm from an edge or rim (by
 * fence_set_distance_m(), checked against an independent distance); the
 * fixes within 1 cm that differ are counted and printed, not failed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <geos_c.h>

#include "fence.h"
#include "geo.h"
#include "../bench/fencegen.h"

#define RANDOM_POINTS	1000000
#define DRIVE_FIXES	100000
#define OUTLINE_NAME	"sichuan_province.ne10m.wgs84.geojson"

static char	 why[512];

/* Where the outline is: $FLEETGW_GEO_TESTDATA, tests/data/geo, then the
 * shared data beside the checkout; relative to the repository root,
 * where the tests run.  NULL when absent. */
static const char *
outline_path(char *buf, size_t len)
{
	static const char	*dirs[] = { "tests/data/geo",
	    "../shared/testdata/geo" };
	const char		*env;
	size_t			 i;

	if ((env = getenv("FLEETGW_GEO_TESTDATA")) != NULL) {
		snprintf(buf, len, "%s/%s", env, OUTLINE_NAME);
		return access(buf, R_OK) == 0 ? buf : NULL;
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, len, "%s/%s", dirs[i], OUTLINE_NAME);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

/* A GEOS polygon of one part of o (shell ring s and the holes after). */
static GEOSGeometry *
geos_ring(GEOSContextHandle_t ctx, const struct fencegen_ring *r)
{
	GEOSCoordSequence	*cs;
	double			*buf;
	size_t			 k;

	buf = calloc(r->npoints + 1, 2 * sizeof(double));
	cr_assert_not_null(buf);
	for (k = 0; k <= r->npoints; k++) {
		buf[2 * k] = r->lonlat[2 * (k % r->npoints)];
		buf[2 * k + 1] = r->lonlat[2 * (k % r->npoints) + 1];
	}
	cs = GEOSCoordSeq_copyFromBuffer_r(ctx, buf,
	    (unsigned)(r->npoints + 1), 0, 0);
	free(buf);
	cr_assert_not_null(cs);
	return GEOSGeom_createLinearRing_r(ctx, cs);
}

/* The outline as one GEOS (multi)polygon, in the published coordinates. */
static GEOSGeometry *
geos_outline(GEOSContextHandle_t ctx, const struct fencegen_outline *o)
{
	GEOSGeometry	**parts, **holes, *shell;
	size_t		 i, j, nparts = 0, nholes;

	parts = calloc(o->nrings, sizeof(*parts));
	holes = calloc(o->nrings, sizeof(*holes));
	cr_assert(parts != NULL && holes != NULL);
	for (i = 0; i < o->nrings; i = j) {
		cr_assert(!o->rings[i].hole, "hole before a shell");
		shell = geos_ring(ctx, &o->rings[i]);
		nholes = 0;
		for (j = i + 1; j < o->nrings && o->rings[j].hole; j++)
			holes[nholes++] = geos_ring(ctx, &o->rings[j]);
		parts[nparts] = GEOSGeom_createPolygon_r(ctx, shell, holes,
		    (unsigned)nholes);
		cr_assert_not_null(parts[nparts]);
		nparts++;
	}
	shell = nparts == 1 ? parts[0] : GEOSGeom_createCollection_r(ctx,
	    GEOS_MULTIPOLYGON, parts, (unsigned)nparts);
	free(parts);
	free(holes);
	cr_assert_not_null(shell);
	return shell;
}

Test(fence_geos, sichuan_outline, .timeout = 300)
{
	struct fencegen_outline	 o;
	struct fence_builder	*b;
	struct fence_set	*set;
	struct fence_spec	 spec;
	GEOSContextHandle_t	 ctx;
	GEOSGeometry		*poly, *pt;
	const GEOSPreparedGeometry *prep;
	enum fence_loc		 loc;
	uint32_t		 out[4];
	double			*pts, lon, lat, d;
	char			 path[512];
	const char		*p;
	size_t			 i, nq, inside = 0, near = 0, far = 0;
	size_t			 inconsistent = 0;
	bool			 ours, geos;

	if ((p = outline_path(path, sizeof(path))) == NULL) {
		/* Criterion shows skips only with --verbose: say it here. */
		fprintf(stderr, "test_fence_geos: %s not found "
		    "(../shared/testdata/geo beside the checkout, or set "
		    "FLEETGW_GEO_TESTDATA): Sichuan outline test skipped\n",
		    OUTLINE_NAME);
		cr_skip_test("%s not found (../shared/testdata/geo beside the "
		    "checkout, or set FLEETGW_GEO_TESTDATA): Sichuan outline "
		    "test skipped", OUTLINE_NAME);
	}
	cr_assert_eq(fencegen_outline_read(p, &o, why, sizeof(why)), 0, "%s",
	    why);
	/* SOURCES.md: 2352 positions, first = last. */
	cr_assert_eq(o.vertices, 2351);

	b = fence_builder_new();
	memset(&spec, 0, sizeof(spec));
	spec.id = "sichuan";
	spec.kind = FENCE_REGION;
	spec.crs = GEO_CRS_WGS84;
	spec.dwell_s = -1;
	cr_assert_eq(fencegen_add_outline(b, &spec, &o, why, sizeof(why)), 0,
	    "%s", why);
	set = fence_builder_finish(b);
	cr_assert_eq(fence_set_count(set), 1);

	ctx = GEOS_init_r();
	poly = geos_outline(ctx, &o);
	cr_assert_eq(GEOSisValid_r(ctx, poly), 1);
	prep = GEOSPrepare_r(ctx, poly);
	cr_assert_not_null(prep);

	pts = calloc(RANDOM_POINTS, 2 * sizeof(double));
	cr_assert_not_null(pts);
	fencegen_random_points(FENCEGEN_SEED, RANDOM_POINTS, pts);
	for (i = 0; i < RANDOM_POINTS; i++) {
		lon = pts[2 * i];
		lat = pts[2 * i + 1];
		loc = fence_set_locate(set, 0, lon, lat);
		nq = fence_set_query(set, lon, lat, out, 4);
		ours = loc != FENCE_OUT;
		if ((nq == 1 && out[0] == 0) != ours || nq > 1)
			inconsistent++;
		pt = GEOSGeom_createPointFromXY_r(ctx, lon, lat);
		geos = GEOSPreparedCovers_r(ctx, prep, pt) == 1;
		GEOSGeom_destroy_r(ctx, pt);
		inside += geos;
		if (ours == geos)
			continue;
		d = fence_set_distance_m(set, 0, lon, lat);
		if (fabs(d) <= FENCEGEN_BOUNDARY_M) {
			cr_log_info("sichuan_outline: point %zu (%.9f, %.9f) "
			    "%.4f m from the edge: ours %s, GEOS %s", i, lon,
			    lat, d, ours ? "in" : "out", geos ? "in" : "out");
			near++;
		} else {
			if (far < FENCEGEN_SHOW)
				cr_log_error("sichuan_outline: point %zu "
				    "(%.9f, %.9f) %.4f m from the edge: ours "
				    "%s, GEOS %s", i, lon, lat, d, ours ?
				    "in" : "out", geos ? "in" : "out");
			far++;
		}
	}
	cr_log_info("sichuan_outline: %d points, %zu inside, %zu differ "
	    "within 1 cm of the edge, %zu farther", RANDOM_POINTS, inside,
	    near, far);

	free(pts);
	GEOSPreparedGeom_destroy_r(ctx, prep);
	GEOSGeom_destroy_r(ctx, poly);
	GEOS_finish_r(ctx);
	fence_set_free(set);
	fencegen_outline_free(&o);

	cr_expect_eq(inconsistent, 0, "locate and query differ on %zu points",
	    inconsistent);
	cr_expect_eq(far, 0, "%zu points differ from GEOS farther than 1 cm "
	    "from the edge", far);
	/* Sichuan is about half of its bbox (45.6 of 92.7 square degrees):
	 * a broken outline or oracle would not be. */
	cr_expect(inside > RANDOM_POINTS * 4 / 10 &&
	    inside < RANDOM_POINTS * 6 / 10, "%zu points inside", inside);
}

/* The reference set with the synthetic province. */
static struct fence_set *
reference_set(struct fencegen_stats *gs)
{
	struct fencegen_opts	 opts;
	struct fence_builder	*b;

	memset(&opts, 0, sizeof(opts));
	opts.seed = FENCEGEN_SEED;
	opts.province_path = NULL;
	opts.forbidden = 10000;
	opts.parking = 50;
	b = fence_builder_new();
	if (fencegen_build(b, &opts, gs, why, sizeof(why)) == -1) {
		fence_builder_free(b);
		cr_assert_fail("fencegen: %s", why);
	}
	return fence_builder_finish(b);
}

static void
check_stream(const struct fence_set *set, struct fencegen_geos *g,
    const char *name, const double *lonlat, size_t n,
    struct fencegen_diff *d)
{
	size_t	 i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < n; i++)
		fencegen_compare(set, g, name, i, lonlat[2 * i],
		    lonlat[2 * i + 1], d);
	cr_log_info("%s: %zu fixes, %zu covered (%zu fence hits), %zu differ "
	    "within 1 cm of an edge or rim, %zu farther, %zu over %d hits, "
	    "%zu distance mismatches", name, d->fixes, d->covered, d->hits,
	    d->boundary, d->disagree, d->overflow, FENCEGEN_MAX_HITS,
	    d->mismatch);
}

Test(fence_geos, reference_set, .timeout = 300)
{
	struct fencegen_stats	 gs;
	struct fencegen_diff	 dr, dd;
	struct fencegen_geos	*g;
	struct fence_set	*set;
	double			*pts;
	size_t			 laps;

	set = reference_set(&gs);
	cr_assert_eq(fence_set_count(set), 1 + 10000 + 50 + 2);
	cr_assert(!gs.province_file);
	cr_log_info("reference_set: %zu fences (%zu circles, %zu polygons, "
	    "%zu GCJ-02), %zu redrawn%s%s", gs.fences, gs.circles,
	    gs.polygons, gs.gcj02, gs.retries, gs.retries ? ", first: " : "",
	    gs.retry_why);
	g = fencegen_geos_new(set, why, sizeof(why));
	cr_assert_not_null(g, "%s", why);

	pts = calloc(RANDOM_POINTS, 2 * sizeof(double));
	cr_assert_not_null(pts);
	fencegen_random_points(FENCEGEN_SEED, RANDOM_POINTS, pts);
	check_stream(set, g, "reference_set random", pts, RANDOM_POINTS, &dr);
	laps = fencegen_drive(set, FENCEGEN_SEED, DRIVE_FIXES, pts);
	check_stream(set, g, "reference_set drive", pts, DRIVE_FIXES, &dd);
	cr_log_info("reference_set drive: %zu laps along polygon edges", laps);

	free(pts);
	fencegen_geos_free(g);
	fence_set_free(set);

	cr_expect_eq(dr.disagree, 0, "random: %zu points differ from GEOS "
	    "farther than 1 cm from an edge", dr.disagree);
	cr_expect_eq(dd.disagree, 0, "drive: %zu fixes differ from GEOS "
	    "farther than 1 cm from an edge", dd.disagree);
	cr_expect_eq(dr.overflow + dd.overflow, 0);
	cr_expect_eq(dr.mismatch + dd.mismatch, 0, "fence_set_distance_m "
	    "differs from fencegen's distance on %zu fences",
	    dr.mismatch + dd.mismatch);
	/* The streams must exercise the set: the random points fall in the
	 * province about half the time, and the drive, in and around
	 * Chengdu, is always in it and often in a small fence too. */
	cr_expect(dr.covered > RANDOM_POINTS / 5, "random: %zu covered",
	    dr.covered);
	cr_expect_eq(dd.covered, DRIVE_FIXES, "drive: %zu in the province",
	    dd.covered);
	cr_expect(dd.hits - dd.covered > DRIVE_FIXES / 20, "drive: only %zu "
	    "hits on small fences", dd.hits - dd.covered);
	cr_expect(laps > 100, "drive: %zu laps", laps);
}

/* The stored vertices are lattice points: exactly on the boundary. */
Test(fence_geos, vertices, .timeout = 300)
{
	const struct fence_info	*fi;
	struct fencegen_stats	 gs;
	struct fencegen_geos	*g;
	struct fence_set	*set;
	const int32_t		*xy;
	uint32_t		 a[FENCEGEN_MAX_HITS], b[FENCEGEN_MAX_HITS];
	double			 lon, lat;
	size_t			 f, r, k, nv, na, nb, i, n = 0, bad = 0;
	bool			 hole, in_a, in_b;

	set = reference_set(&gs);
	g = fencegen_geos_new(set, why, sizeof(why));
	cr_assert_not_null(g, "%s", why);
	for (f = 0; f < fence_set_count(set); f++) {
		fi = fence_set_info(set, f);
		for (r = 0; fence_set_ring(set, f, r, &xy, &nv, &hole) == 0;
		    r++)
			for (k = 0; k < nv; k++) {
				lon = xy[2 * k] * FENCE_LATTICE_DEG;
				lat = xy[2 * k + 1] * FENCE_LATTICE_DEG;
				n++;
				na = fence_set_query(set, lon, lat, a,
				    FENCEGEN_MAX_HITS);
				nb = fencegen_geos_query(g, lon, lat, b,
				    FENCEGEN_MAX_HITS);
				in_a = in_b = false;
				for (i = 0; i < na && i < FENCEGEN_MAX_HITS;
				    i++)
					in_a |= a[i] == f;
				for (i = 0; i < nb && i < FENCEGEN_MAX_HITS;
				    i++)
					in_b |= b[i] == f;
				if (fence_set_locate(set, f, lon, lat) ==
				    FENCE_ON && in_a && in_b)
					continue;
				if (bad++ < FENCEGEN_SHOW)
					cr_log_error("vertex %zu of ring %zu of "
					    "%s (%.7f, %.7f): locate %d, "
					    "query %d, GEOS %d", k, r, fi->id,
					    lon, lat, fence_set_locate(set, f,
					    lon, lat), in_a, in_b);
			}
	}
	cr_log_info("vertices: %zu checked, %zu not on the boundary", n, bad);
	fencegen_geos_free(g);
	fence_set_free(set);
	cr_expect_eq(bad, 0, "%zu of %zu vertices not on the boundary", bad,
	    n);
	cr_expect(n > 50000, "only %zu vertices", n);
}

static bool
has(const uint32_t *v, size_t n, size_t f)
{
	size_t	 i;

	for (i = 0; i < n && i < FENCEGEN_MAX_HITS; i++)
		if (v[i] == f)
			return true;
	return false;
}

/*
 * Lattice points are exact for both engines: GEOS gets the same doubles
 * as the stored vertices (units * FENCE_LATTICE_DEG), and a point that
 * is not exactly on an edge is at least 1 / (edge length) lattice units
 * away from it, far more than the rounding of those doubles.  So off the
 * boundary (ours: not FENCE_ON) there is no tolerance at all.
 */
Test(fence_geos, vertex_latitudes, .timeout = 300)
{
	const struct fence_info	*fi;
	struct fencegen_stats	 gs;
	struct fencegen_geos	*g;
	struct fencegen_rng	 rng;
	struct fence_set	*set;
	const int32_t		*xy;
	uint32_t		 a[FENCEGEN_MAX_HITS], b[FENCEGEN_MAX_HITS];
	int64_t			 x, y, x0, x1;
	double			 lon, lat;
	size_t			 f, r, k, nv, na, nb, n = 0, on = 0, bad = 0;
	int			 dx, dy, j;
	enum fence_loc		 loc;
	bool			 hole, in_a, in_b, ok;

	set = reference_set(&gs);
	g = fencegen_geos_new(set, why, sizeof(why));
	cr_assert_not_null(g, "%s", why);
	fencegen_rng_init(&rng, FENCEGEN_SEED);
	for (f = 0; f < fence_set_count(set); f++) {
		fi = fence_set_info(set, f);
		if (fi->shape != FENCE_SHAPE_POLYGON)
			continue;
		x0 = (int64_t)floor(fi->min_lon / FENCE_LATTICE_DEG);
		x1 = (int64_t)ceil(fi->max_lon / FENCE_LATTICE_DEG);
		for (r = 0; fence_set_ring(set, f, r, &xy, &nv, &hole) == 0;
		    r++)
			for (k = 0; k < nv; k++)
				/* 3 x 7 neighbours, then 4 anywhere on the
				 * vertex's latitude across the bbox. */
				for (j = 0; j < 25; j++) {
					dx = j % 7 - 3;
					dy = j / 7 - 1;
					y = xy[2 * k + 1] + (j < 21 ? dy : 0);
					x = j < 21 ? xy[2 * k] + dx : x0 +
					    (int64_t)(fencegen_rng_next(&rng) %
					    (uint64_t)(x1 - x0 + 1));
					lon = (double)x * FENCE_LATTICE_DEG;
					lat = (double)y * FENCE_LATTICE_DEG;
					n++;
					loc = fence_set_locate(set, f, lon,
					    lat);
					na = fence_set_query(set, lon, lat, a,
					    FENCEGEN_MAX_HITS);
					nb = fencegen_geos_query(g, lon, lat,
					    b, FENCEGEN_MAX_HITS);
					in_a = has(a, na, f);
					in_b = has(b, nb, f);
					ok = in_a == (loc != FENCE_OUT) &&
					    (loc == FENCE_ON || in_a == in_b);
					on += loc == FENCE_ON;
					if (ok)
						continue;
					if (bad++ < FENCEGEN_SHOW)
						cr_log_error("%s ring %zu vertex "
						    "%zu + (%" PRId64 ", %"
						    PRId64 ") units = (%.7f, "
						    "%.7f): locate %d, query "
						    "%d, GEOS %d", fi->id, r,
						    k, x - xy[2 * k],
						    y - xy[2 * k + 1], lon,
						    lat, loc, in_a, in_b);
				}
	}
	cr_log_info("vertex_latitudes: %zu lattice points, %zu on the "
	    "boundary, %zu wrong", n, on, bad);
	fencegen_geos_free(g);
	fence_set_free(set);
	cr_expect_eq(bad, 0, "%zu of %zu lattice points wrong", bad, n);
}
