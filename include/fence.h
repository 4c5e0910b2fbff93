/* SPDX-License-Identifier: MIT */
/*
 * fence.h - geofences (电子围栏): shapes, the fence set and its index.
 *
 * Pure: no I/O, no clock, no globals.  A fence set is built once with a
 * builder, then immutable; it may be read by any number of readers and is
 * freed as a whole (fence_set_free()).  SIGHUP builds a new set aside and
 * swaps the pointer when it is valid.
 *
 * Shapes: circle, polygon with holes, multipolygon, rectangle (kept as a
 * 4-corner polygon), corridor (a polyline with a width, for dispatch
 * routes).  Every fence is drawn in a crs (geo.h); it is converted once,
 * in the builder, to WGS-84: circle centres and corridor/polygon vertices
 * are converted with the exact (iterative) inverse, and for gcj02/bd09 the
 * edges are first densified to at most FENCE_DENSIFY_M so that a converted
 * edge stays within 0.1 m of the image of the drawn straight edge.  Circle
 * radii and corridor widths are in metres and kept (the GCJ-02 warp scales
 * lengths by at most 0.3 %).
 *
 * Geometry is then snapped to a lattice of FENCE_LATTICE_DEG (1e-7 degree,
 * 1.1 cm) stored as int32 units; every predicate is exact integer
 * arithmetic on that lattice, and a query point is rounded to the lattice
 * first (moves it by at most 0.8 cm).
 *
 * One rule for edges and vertices: a fence covers its boundary.  A point
 * exactly on an edge or a vertex (on the lattice) is FENCE_ON, which
 * every kind of fence counts as inside: GEOS covers() for regions,
 * intersects() for forbidden places, parking lots and the office.  Off the
 * boundary, polygons follow the even-odd crossing rule with the half-open
 * convention of GEOS RayCrossingCounter, so results agree with GEOS for
 * every point farther than 1 cm from an edge.  A circle covers the points
 * whose great-circle distance (geo_distance_m()) to the centre is at most
 * radius_m; a corridor those whose distance to the polyline is at most
 * width_m / 2 (distance in a local equirectangular frame per segment,
 * within 1 mm of the great circle at corridor widths).
 *
 * Validation (fence_builder_end()) rejects: a non-finite coordinate,
 * longitude outside [-180, 180] or latitude outside [-90, 90] (in the
 * fence's crs, before conversion), a ring with fewer than 3 distinct
 * vertices, a ring that crosses or touches itself, two rings of one fence
 * that cross or overlap along an edge, a hole not inside its shell, a
 * polygon part inside another part (not in its hole), a radius or width
 * that is not positive and finite or above FENCE_MAX_RADIUS_M, a corridor
 * with fewer than 2 distinct points, a fence wider than FENCE_MAX_SPAN_DEG,
 * more than FENCE_MAX_VERTICES vertices in one fence after densification.
 * Rings are given open (the GeoJSON closing vertex removed by the caller);
 * consecutive duplicate vertices, including those that snapping creates,
 * are dropped silently.
 *
 * Index: fences whose bounding box spans more than a few cells of the set
 * grid ("large": provinces, counties, long corridors) are checked one by
 * one behind their bounding box, polygons through a classified grid (each
 * cell IN, OUT or MIXED; MIXED cells fall back to a slab index of the
 * edges and the exact crossing test).  The others ("small": forbidden
 * places, lots, the office) sit in a uniform grid of fence ids over their
 * union; a query reads one cell and tests its few candidates exactly.
 */
#ifndef FENCE_H
#define FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "geo.h"

#define FENCE_LATTICE_DEG	1e-7	/* int32 unit of stored geometry */
#define FENCE_DENSIFY_M		1000.0	/* longest edge warped as is */
#define FENCE_MAX_RADIUS_M	100000.0 /* circle radius, half corridor */
#define FENCE_MAX_SPAN_DEG	60.0	/* bbox width or height */
#define FENCE_MAX_VERTICES	2000000	/* one fence, after densification */
#define FENCE_ID_MAX		64	/* bytes, not counting the NUL */

/* What a fence is for (DESIGN.md §5 "kind"). */
enum fence_kind {
	FENCE_REGION,		/* permitted region: county, city, province */
	FENCE_FORBIDDEN,	/* entertainment venue, scenic spot, golf ... */
	FENCE_PARKING,		/* designated overnight lot (定点停放) */
	FENCE_OFFICE,		/* the unit's compound */
	FENCE_DESTINATION	/* a dispatch order's destination or route */
};

enum fence_shape {
	FENCE_SHAPE_CIRCLE,
	FENCE_SHAPE_POLYGON,	/* polygon, multipolygon, rectangle */
	FENCE_SHAPE_CORRIDOR
};

/* Result of locating a point against one fence. */
enum fence_loc {
	FENCE_OUT,
	FENCE_ON,		/* on the boundary: counts as inside */
	FENCE_IN
};

/* "region", "forbidden", "parking", "office", "destination". */
const char	*fence_kind_name(enum fence_kind);
int		 fence_kind_parse(const char *name, enum fence_kind *out);
/* "circle", "polygon", "corridor". */
const char	*fence_shape_name(enum fence_shape);

/* The attributes of a fence, given to fence_builder_begin(). */
struct fence_spec {
	const char	*id;		/* required: 1..FENCE_ID_MAX bytes of
					   printable UTF-8, no control chars;
					   unique in the set */
	const char	*name;		/* display name, NULL = none */
	enum fence_kind	 kind;
	const char	*category;	/* "entertainment", ...; NULL = none */
	enum geo_crs	 crs;		/* of the coordinates that follow */
	double		 speed_limit_kmh; /* 0 = none, else 1..300 */
	int		 dwell_s;	/* -1 = the rule's default, else
					   0..86400 */
};

/* A fence as loaded: attributes and geometry summary (WGS-84). */
struct fence_info {
	const char	*id;		/* owned by the set */
	const char	*name;		/* "" when none */
	enum fence_kind	 kind;
	const char	*category;	/* "" when none */
	enum geo_crs	 crs;		/* as drawn */
	enum fence_shape shape;
	double		 speed_limit_kmh;
	int		 dwell_s;
	size_t		 parts;		/* polygon parts; 1 otherwise */
	size_t		 rings;		/* shells + holes; 0 for a circle */
	size_t		 vertices;	/* stored, after densify + snap (circle:
					   0, corridor: polyline points) */
	double		 min_lon, min_lat, max_lon, max_lat; /* bbox, WGS-84,
					   circle and corridor included */
	double		 center_lon, center_lat; /* circle: centre, WGS-84 */
	double		 radius_m;	/* circle: radius; corridor: width/2 */
	bool		 large;		/* checked on its own, not via the grid */
};

struct fence_builder;
struct fence_set;

/*
 * Building.  Every call that can fail returns 0, or -1 with a reason in
 * why (lower case, no fence id: the caller prefixes "file: fence ID: "),
 * and then the fence being built is discarded (the builder stays usable
 * for the next begin).  Coordinates are in the crs of the spec.
 *
 *   begin, then exactly one of:
 *     circle
 *     rect
 *     corridor
 *     one or more parts: part, ring (the shell), ring ... (holes)
 *   then end.
 *
 * fence_builder_begin() discards a fence that was begun and not ended
 * (the caller found a problem of its own half-way).
 *
 * fence_builder_end() validates and converts the fence and adds it to the
 * set being built.  fence_builder_finish() builds the index and returns the
 * set (never NULL; an empty set is valid) and frees the builder.
 */
struct fence_builder *fence_builder_new(void);
void		 fence_builder_free(struct fence_builder *);	/* NULL ok */
int		 fence_builder_begin(struct fence_builder *,
		    const struct fence_spec *, char *why, size_t whylen);
int		 fence_builder_circle(struct fence_builder *, double lon,
		    double lat, double radius_m, char *why, size_t whylen);
int		 fence_builder_rect(struct fence_builder *, double west,
		    double south, double east, double north, char *why,
		    size_t whylen);
int		 fence_builder_corridor(struct fence_builder *,
		    const double *lonlat, size_t npoints, double width_m,
		    char *why, size_t whylen);
int		 fence_builder_part(struct fence_builder *, char *why,
		    size_t whylen);
/* lonlat: npoints (lon, lat) pairs, the ring open (not repeating the
 * first vertex at the end). */
int		 fence_builder_ring(struct fence_builder *,
		    const double *lonlat, size_t npoints, char *why,
		    size_t whylen);
int		 fence_builder_end(struct fence_builder *, char *why,
		    size_t whylen);
/* The number of fences ended so far. */
size_t		 fence_builder_count(const struct fence_builder *);
struct fence_set *fence_builder_finish(struct fence_builder *);

void		 fence_set_free(struct fence_set *);		/* NULL ok */

/* Fences are numbered 0..count-1 in the order they were ended. */
size_t		 fence_set_count(const struct fence_set *);
/* Borrowed, valid until fence_set_free(); NULL if idx >= count. */
const struct fence_info *fence_set_info(const struct fence_set *,
		    size_t idx);
/* Index of the fence with this id, or -1. */
long		 fence_set_find(const struct fence_set *, const char *id);

/*
 * Every fence that covers (lon, lat) (WGS-84 degrees; boundary included):
 * writes up to max indices, ascending, to out and returns how many fences
 * cover the point (which may be more than max).  A non-finite point is
 * covered by nothing.  The hot path: no allocation, no libm call except
 * for a point within a few cm of a circle's rim.
 */
size_t		 fence_set_query(const struct fence_set *, double lon,
		    double lat, uint32_t *out, size_t max);

/* One fence: OUT, ON or IN. */
enum fence_loc	 fence_set_locate(const struct fence_set *, size_t idx,
		    double lon, double lat);

/*
 * Signed distance in metres from (lon, lat) to the boundary of fence idx:
 * negative inside, 0 on the boundary, positive outside.  Exact to the
 * centimetre (local equirectangular frame per edge); costs O(edges), for
 * reports and hysteresis, not for every fix against every fence.  NaN for
 * a non-finite point or a bad idx.
 */
double		 fence_set_distance_m(const struct fence_set *, size_t idx,
		    double lon, double lat);

/*
 * The stored rings of fence idx (polygon: ring r of all rings in part
 * order, shell first; corridor: ring 0 is the polyline; circle: none), as
 * lattice units (multiply by FENCE_LATTICE_DEG for degrees): xy holds
 * *npoints (lon, lat) int32 pairs, open ring.  Returns 0, or -1 when r is
 * out of range.  For exports and the map in the HTML report.
 */
int		 fence_set_ring(const struct fence_set *, size_t idx,
		    size_t r, const int32_t **xy, size_t *npoints,
		    bool *is_hole);

/*
 * Bytes held by the set, everything included.  index_bytes (may be NULL)
 * gets the part that is geometry and index (vertices, classified grids,
 * slabs, corridor buckets, the set grid): what a query reads, without the
 * per-fence records, ids, names and the id hash.  For make bench.
 */
size_t		 fence_set_memory(const struct fence_set *, size_t *index_bytes);

#endif /* FENCE_H */
