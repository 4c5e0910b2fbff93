/* SPDX-License-Identifier: MIT */
/*
 * fencegen.h - the seeded reference fence set and fix streams of the
 * geofence research brief (section 5), and a GEOS oracle for it.  For
 * bench_fence and test_fence_geos only; never linked into the daemon.
 *
 * Everything is deterministic for a seed: the generator has its own PRNG
 * (xoshiro256** seeded through splitmix64) and each class of fences and
 * each stream draws from its own sub-stream, so the forbidden places are
 * the same whether the province comes from a file or is synthetic.  A
 * fence that fence_builder_* rejects is drawn again from the next random
 * numbers (counted in fencegen_stats.retries).
 *
 * The reference set, in this order (fence index = order ended):
 *   0              "province": the Sichuan outline (region, WGS-84)
 *   1 .. F         "forbidden-NNNNN": 70 % circles r 50-500 m, 30 %
 *                  star-shaped polygons of 8-40 vertices 50-500 m
 *                  across; 80 % around 21 Sichuan city centres (sigma
 *                  5-15 km per city), 20 % uniform over the Sichuan bbox
 *   then           "parking-NN": polygons, 4-20 vertices, 30-200 m across,
 *                  within 20 km of Chengdu
 *   then           "office" (polygon about 150 m with a courtyard hole)
 *                  and "office-annex" (circle r 80 m)
 * Every second synthetic fence (the odd ones of each class, the office
 * polygon) is drawn in GCJ-02: its coordinates are generated in GCJ
 * space, as if drawn on Amap; the others in WGS-84.
 */
#ifndef FENCEGEN_H
#define FENCEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fence.h"

#define FENCEGEN_SEED		UINT64_C(0x5eed2026f3e1ce01)

/* The Sichuan bbox of the random point stream, degrees. */
#define FENCEGEN_WEST		97.35
#define FENCEGEN_EAST		108.55
#define FENCEGEN_SOUTH		26.04
#define FENCEGEN_NORTH		34.32

/* Chengdu (the drive's home, the parking lots). */
#define FENCEGEN_CHENGDU_LON	104.066
#define FENCEGEN_CHENGDU_LAT	30.573

/* Where test and bench look for the Natural Earth outline (repo root). */
#define FENCEGEN_SICHUAN_GEOJSON \
	"../shared/testdata/geo/sichuan_province.ne10m.wgs84.geojson"

struct fencegen_rng {
	uint64_t	 s[4];
};

void	 fencegen_rng_init(struct fencegen_rng *, uint64_t seed);
uint64_t fencegen_rng_next(struct fencegen_rng *);
/* Uniform in [lo, hi). */
double	 fencegen_uniform(struct fencegen_rng *, double lo, double hi);
/* Standard normal. */
double	 fencegen_gauss(struct fencegen_rng *);

/* A polygon outline as rings of (lon, lat) pairs, open (no closing
 * vertex); a ring that is not a hole starts a new part. */
struct fencegen_ring {
	double		*lonlat;
	size_t		 npoints;
	bool		 hole;
};

struct fencegen_outline {
	struct fencegen_ring *rings;
	size_t		 nrings;
	size_t		 vertices;	/* all rings */
};

/*
 * Read the first Polygon or MultiPolygon of a GeoJSON file (a
 * FeatureCollection, a Feature or a bare geometry) into out, closing
 * vertices removed.  0, or -1 with the reason in why.
 */
int	 fencegen_outline_read(const char *path, struct fencegen_outline *out,
	    char *why, size_t whylen);
/* The synthetic province: a star-shaped ring of about 2500 vertices
 * around (103, 30.5), about 8 x 6 degrees. */
void	 fencegen_outline_synthetic(uint64_t seed,
	    struct fencegen_outline *out);
void	 fencegen_outline_free(struct fencegen_outline *);
/* begin, the parts and rings of o, end. */
int	 fencegen_add_outline(struct fence_builder *, const struct fence_spec *,
	    const struct fencegen_outline *, char *why, size_t whylen);

struct fencegen_opts {
	uint64_t	 seed;
	const char	*province_path;	/* GeoJSON; NULL, or a file that does
					   not exist: the synthetic province;
					   a file that exists must be good */
	size_t		 forbidden;	/* 10000 in the reference set */
	size_t		 parking;	/* 50 */
};

struct fencegen_stats {
	bool		 province_file;	/* outline read from province_path */
	size_t		 province_vertices;
	size_t		 fences;
	size_t		 circles;
	size_t		 polygons;
	size_t		 gcj02;
	size_t		 retries;	/* fences drawn again after a rejection */
	char		 retry_why[400]; /* the first rejection, "" if none */
};

/*
 * Add the reference set to b (which should be empty).  0, or -1 with the
 * reason in why (an unreadable province file, a fence rejected 100 times
 * in a row).  stats may be NULL.
 */
int	 fencegen_build(struct fence_builder *, const struct fencegen_opts *,
	    struct fencegen_stats *, char *why, size_t whylen);

/* n uniform random (lon, lat) pairs in the Sichuan bbox into lonlat. */
void	 fencegen_random_points(uint64_t seed, size_t n, double *lonlat);

/*
 * n fixes of a 1 Hz drive (WGS-84, (lon, lat) pairs into lonlat) around
 * Chengdu: a random walk at 8-30 m/s kept within 20 km of the centre,
 * alternating with laps along a ring of a polygon fence of set near
 * Chengdu at a 5-20 m offset (inside or outside), reached by driving
 * there; GNSS noise sigma 3-5 m on every fix.  Returns the number of
 * laps driven.
 */
size_t	 fencegen_drive(const struct fence_set *, uint64_t seed, size_t n,
	    double *lonlat);

/*
 * Unsigned distance in metres from (lon, lat) to the stored boundary of
 * fence idx, computed here independently of fence.c: circles by
 * geo_distance_m() against the radius, polygons by the nearest edge of
 * the rings of fence_set_ring() in a local equirectangular frame.
 */
double	 fencegen_boundary_m(const struct fence_set *, size_t idx,
	    double lon, double lat);

/*
 * The GEOS baseline and oracle over a built set: a prepared geometry of
 * every polygon (from fence_set_ring(), the snapped WGS-84 geometry the
 * engine uses) and a GEOS STRtree of every fence's envelope.  A query
 * creates a point, collects the tree's candidates, tests polygons with
 * GEOSPreparedIntersects_r and circles with geo_distance_m() <= radius,
 * destroys the point.  Corridors are not supported (new fails).
 */
struct fencegen_geos;

struct fencegen_geos *fencegen_geos_new(const struct fence_set *,
	    char *why, size_t whylen);
void	 fencegen_geos_free(struct fencegen_geos *);	/* NULL ok */
/* Like fence_set_query(), but out is in no particular order. */
size_t	 fencegen_geos_query(struct fencegen_geos *, double lon, double lat,
	    uint32_t *out, size_t max);
const char *fencegen_geos_version(void);

/*
 * Ours (fence_set_query()) against the oracle on one fix, counted into d.
 * A fence the two disagree on counts as a boundary case when
 * fence_set_distance_m() puts the fix within FENCEGEN_BOUNDARY_M of its
 * boundary, else as a disagreement; the fix counts once, as a
 * disagreement if any of its fences is one.  Every such distance is also
 * checked against fencegen_boundary_m() (mismatch: they differ by more
 * than FENCEGEN_BOUNDARY_M).  The first FENCEGEN_SHOW disagreements are
 * printed on stderr, prefixed with label.
 */
#define FENCEGEN_BOUNDARY_M	0.01	/* 1 cm */
#define FENCEGEN_MAX_HITS	256	/* fences covering one fix */
#define FENCEGEN_SHOW		5

struct fencegen_diff {
	size_t		 fixes;
	size_t		 covered;	/* fixes in at least one fence (ours) */
	size_t		 hits;		/* sum of the fences covering them */
	size_t		 boundary;	/* fixes that differ only near edges */
	size_t		 disagree;	/* fixes that differ farther away */
	size_t		 overflow;	/* more than FENCEGEN_MAX_HITS */
	size_t		 mismatch;	/* fence.c and fencegen distances */
};

void	 fencegen_compare(const struct fence_set *, struct fencegen_geos *,
	    const char *label, size_t fixno, double lon, double lat,
	    struct fencegen_diff *d);

/* Sort n fence indices ascending (insertion sort: n is small). */
void	 fencegen_sort(uint32_t *v, size_t n);

#endif /* FENCEGEN_H */
